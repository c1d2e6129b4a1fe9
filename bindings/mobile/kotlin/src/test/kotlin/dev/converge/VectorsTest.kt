package dev.converge

import java.io.File
import org.json.JSONArray
import org.json.JSONObject
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.assertThrows

/**
 * The golden vectors every binding reads (`vectors/`, written by Rust): replaying a scripted
 * session must give the same bytes, and loading or applying the recorded bytes the same JSON.
 * Without vectors the test is skipped locally and fails under CI.
 */
class VectorsTest {
    private val dir = File(System.getProperty("converge.vectors") ?: "../../../vectors")

    private fun files(): List<File> {
        val found = dir.listFiles { f -> f.name.endsWith(".json") }?.sortedBy { it.name }.orEmpty()
        if (found.isEmpty()) {
            check(System.getenv("CI").isNullOrEmpty()) { "no golden vectors in ${dir.absolutePath}" }
            assumeTrue(false, "no golden vectors in ${dir.absolutePath}")
        }
        return found
    }

    @TestFactory
    fun vectors(): List<DynamicTest> = files().map { f ->
        DynamicTest.dynamicTest(f.name) {
            val v = JSONObject(f.readText())
            when {
                f.name == "errors.json" -> checkErrors(v)
                f.name.startsWith("merge-") -> checkMerge(v)
                else -> checkSession(v)
            }
        }
    }

    private fun checkSession(v: JSONObject) {
        val expected = normalize(v.getJSONObject("json"))
        Doc(v.getLong("replica").toULong()).use { doc ->
            val aliases = HashMap<String, Item>()
            for (step in v.getJSONArray("steps")) replay(doc, step as JSONObject, aliases)
            assertArrayEquals(hex(v.getString("all_updates")), doc.encodeUpdatesSince(null), "all_updates")
            assertArrayEquals(hex(v.getString("version")), doc.version(), "version")
            assertArrayEquals(hex(v.getString("snapshot")), doc.save(), "snapshot")
            assertArrayEquals(hex(v.getString("history")), doc.saveHistory(), "history")
            assertEquals(expected, json(doc), "replayed json")
        }
        Doc.load(hex(v.getString("snapshot"))).use {
            assertEquals(expected, json(it), "json of load(snapshot)")
            assertArrayEquals(hex(v.getString("version")), it.version(), "version of load(snapshot)")
            assertArrayEquals(hex(v.getString("snapshot")), it.save(), "save of load(snapshot)")
        }
        Doc.load(hex(v.getString("history"))).use { assertEquals(expected, json(it), "json of load(history)") }
        Doc(99u).use {
            it.applyUpdate(hex(v.getString("all_updates")))
            assertEquals(expected, json(it), "json of apply(all_updates)")
            assertArrayEquals(hex(v.getString("version")), it.version(), "version of apply(all_updates)")
        }
    }

    /** Inputs every binding must reject with the same code, leaving the document unchanged. */
    private fun checkErrors(v: JSONObject) {
        val cases = v.getJSONArray("cases")
        assertTrue(cases.length() > 0)
        for (c in cases) {
            c as JSONObject
            val bytes = hex(c.getString("bytes"))
            val e = when (val call = c.getString("call")) {
                "apply_update" -> Doc(99u).use { doc ->
                    c.optJSONArray("setup")?.forEach { doc.applyUpdate(hex(it as String)) }
                    val before = doc.save()
                    val e = assertThrows<ConvergeException>(c.getString("name")) { doc.applyUpdate(bytes) }
                    assertArrayEquals(before, doc.save(), "${c.getString("name")}: document changed")
                    e
                }
                "load" -> assertThrows<ConvergeException>(c.getString("name")) { Doc.load(bytes) }
                else -> throw AssertionError("unknown call $call")
            }
            assertEquals(c.getString("code"), e.code, c.getString("name"))
        }
    }

    private fun checkMerge(v: JSONObject) {
        val expected = normalize(v.getJSONObject("json"))
        val inputs = v.getJSONArray("inputs").map { hex(it as String) }
        for ((n, order) in listOf(inputs, inputs.reversed()).withIndex()) {
            Doc(1000u + n.toULong()).use { doc ->
                order.forEach { doc.applyUpdate(it) }
                assertArrayEquals(hex(v.getString("version")), doc.version(), "version")
                assertEquals(expected, json(doc))
                assertEquals(0, doc.pendingCount())
            }
        }
        Doc(1002u).use { doc ->
            doc.applyUpdate(mergeUpdates(inputs))
            assertEquals(expected, json(doc))
        }
    }

    private fun replay(doc: Doc, s: JSONObject, aliases: MutableMap<String, Item>) {
        fun target(): Item {
            val t = s.getJSONObject("target")
            if (t.has("alias")) return aliases.getValue(t.getString("alias"))
            val name = t.getString("root")
            return when (kind(t.getString("kind"))) {
                ContainerKind.MAP -> Item.Map(doc.map(name))
                ContainerKind.LIST -> Item.List(doc.list(name))
                ContainerKind.TEXT -> Item.Text(doc.text(name))
                ContainerKind.COUNTER -> Item.Counter(doc.counter(name))
                ContainerKind.REGISTER -> Item.Register(doc.register(name))
                ContainerKind.SET -> Item.Set(doc.set(name))
            }
        }
        fun value() = toValue(s.get("value"))
        when (val op = s.getString("op")) {
            "begin" -> doc.begin()
            "commit" -> doc.commit()
            "map_set" -> target().asMap().set(s.getString("key"), value())
            "map_delete" -> target().asMap().delete(s.getString("key"))
            "map_insert_container" -> aliases[s.getString("as")] =
                target().asMap().insertContainer(s.getString("key"), kind(s.getString("kind")))
            "list_insert" -> target().asList().insert(s.getInt("index"), value())
            "list_delete" -> target().asList().delete(s.getInt("start"), s.getInt("end"))
            "list_insert_container" -> aliases[s.getString("as")] =
                target().asList().insertContainer(s.getInt("index"), kind(s.getString("kind")))
            "text_insert" -> target().asText().insert(s.getInt("pos"), s.getString("text"))
            "text_delete" -> target().asText().delete(s.getInt("start"), s.getInt("end"))
            "counter_add" -> target().asCounter().add(s.getLong("amount"))
            "register_set" -> target().asRegister().set(value())
            "set_add" -> target().asSet().add(value())
            "set_remove" -> target().asSet().remove(value())
            else -> throw AssertionError("unknown step op $op")
        }
    }

    private fun kind(name: String) = ContainerKind.valueOf(name.uppercase())

    private fun toValue(j: Any?): Value = when (j) {
        null, JSONObject.NULL -> Value.Null
        is Boolean -> Value.Bool(j)
        is Int, is Long, is java.math.BigInteger -> Value.Int((j as Number).toLong())
        is Number -> Value.Float(j.toDouble())
        is String -> Value.Str(j)
        is JSONObject -> Value.Bytes(hex(j.getString("\$bytes")))
        else -> throw AssertionError("not a vector value: $j")
    }

    /** The document's named roots in the vectors' JSON shape, normalized like [normalize]. */
    private fun json(doc: Doc): Any? = doc.namedRoots().mapValues { fromNode(it.value) }

    private fun fromValue(v: Value): Any? = when (v) {
        is Value.Bytes -> mapOf("\$bytes" to v.value.joinToString("") { "%02x".format(it) })
        else -> v.toKotlin()
    }

    private fun fromNode(n: Node): Any? = when (n) {
        is Node.Scalar -> fromValue(n.value)
        is Node.MapEntries -> n.entries.mapValues { fromNode(it.value) }
        is Node.ListItems -> n.items.map { fromNode(it) }
        is Node.Text -> n.text
        is Node.Counter -> n.value
        is Node.Register -> n.value?.let { fromValue(it) }
        is Node.SetValues -> n.values.map { fromValue(it) }
    }

    /** Parsed JSON as Kotlin maps, lists, Long, Double, String, Boolean and null. */
    private fun normalize(j: Any?): Any? = when (j) {
        null, JSONObject.NULL -> null
        is JSONObject -> j.keySet().associateWith { normalize(j.get(it)) }
        is JSONArray -> j.map { normalize(it) }
        is Int, is Long, is java.math.BigInteger -> (j as Number).toLong()
        is Number -> j.toDouble()
        else -> j
    }

    private fun hex(s: String): ByteArray {
        assertTrue(s.length % 2 == 0, "odd hex length")
        return ByteArray(s.length / 2) { s.substring(2 * it, 2 * it + 2).toInt(16).toByte() }
    }
}
