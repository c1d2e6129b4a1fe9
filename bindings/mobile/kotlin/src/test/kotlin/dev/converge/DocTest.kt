package dev.converge

import java.util.concurrent.CountDownLatch
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class DocTest {
    @Test
    fun textEditsInCharsAndUtf16() = Doc(1u).use { doc ->
        val t = doc.text("body")
        t.insert(0, "héllo")
        t.insert(5, " world")
        assertEquals("héllo world", t.text)
        assertEquals(11, t.length)
        t.delete(0, 1)
        t.splice(0, 4, "HELLO")
        assertEquals("HELLO world", t.value())
        t.insertUtf16(0, "😀")
        assertEquals(12, t.len())
        assertEquals(13, t.lenUtf16())
        assertEquals(13, t.text.length) // Kotlin's own UTF-16 length agrees
        assertThrows<ConvergeException.InvalidPosition> { t.insertUtf16(1, "x") }
        t.deleteUtf16(0, 2)
        assertEquals("HELLO world", t.text)
        assertFalse(t.isEmpty())
        assertEquals(Node.Text("HELLO world"), t.toNode())
        assertEquals(ContainerKind.TEXT, t.id().kind)
    }

    @Test
    fun batchPatchesAreOneEventAndAllOrNothing(): Unit = Doc(1u).use { doc ->
        val t = doc.text("t")
        val events = CopyOnWriteArrayList<ChangeEvent>()
        doc.onChange { events.add(it) }.use {
            t.applyPatches(Triple(0, 0, "abc"), Triple(3, 0, "def"), Triple(1, 2, "X"))
            assertEquals("aXdef", t.text)
            assertEquals(1, events.size)
            val before = doc.save()
            val e = assertThrows<ConvergeException.OutOfBounds> {
                t.applyPatches(listOf(TextPatch(0, 0, "zz"), TextPatch(100, 0, "!")))
            }
            assertEquals("OUT_OF_BOUNDS", e.code)
            assertEquals("aXdef", t.text)
            assertArrayEquals(before, doc.save())
            assertEquals(1, events.size)
        }
    }

    @Test
    fun mapsHoldValuesAndNestedContainers(): Unit = Doc(1u).use { doc ->
        val m = doc.map("m")
        m.put("s", "str")
        m.put("i", 42)
        m.put("f", 1.5)
        m.put("b", true)
        m.put("n", null)
        m.put("bytes", byteArrayOf(1, 2, 3))
        m.setAll(mapOf("x" to Value.Int(1), "y" to Value.Int(2)))
        assertEquals("str", m.getValue("s"))
        assertEquals(42L, m.getValue("i"))
        assertEquals(1.5, m.getValue("f"))
        assertEquals(true, m.getValue("b"))
        assertEquals(Item.Scalar(Value.Null), m.get("n"))
        assertArrayEquals(byteArrayOf(1, 2, 3), m.getValue("bytes") as ByteArray)
        assertNull(m.get("missing"))
        val inner = m.insertContainer("inner", ContainerKind.TEXT).asText()
        inner.insert(0, "nested")
        assertEquals("nested", m.get("inner")!!.asText().text)
        assertEquals(listOf("b", "bytes", "f", "i", "inner", "n", "s", "x", "y"), m.keys())
        assertEquals(9, m.size)
        m.delete("x")
        assertEquals(8, m.entries().size)
        assertFalse(m.isEmpty())
        val tree = m.toNode().toKotlin() as Map<*, *>
        assertEquals("nested", tree["inner"])
        assertEquals(2L, tree["y"])
        assertThrows<ConvergeException.WrongKind> { m.get("s")!!.asList() }
    }

    @Test
    fun listsInsertPushDeleteAndNest(): Unit = Doc(1u).use { doc ->
        val l = doc.list("l")
        l.add("a")
        l.pushAll(listOf(Value.Int(1), Value.Int(2)))
        l.insert(0, Value.Str("first"))
        l.insertAll(1, listOf(Value.Bool(true), Value.Null))
        assertEquals(6, l.size)
        assertEquals(Item.Scalar(Value.Str("first")), l.get(0))
        assertNull(l.get(99))
        assertNull(l.get(-1))
        l.delete(1, 3)
        assertEquals(listOf("first", "a", 1L, 2L), (l.toNode().toKotlin() as List<*>))
        val c = l.insertContainer(0, ContainerKind.COUNTER).asCounter()
        c.add(5)
        assertEquals(5L, (l.items()[0] as Item.Counter).counter.count)
        assertThrows<ConvergeException.OutOfBounds> { l.insert(100, Value.Null) }
        assertThrows<ConvergeException.OutOfBounds> { l.delete(-1, 2) }
        assertFalse(l.isEmpty())
    }

    @Test
    fun countersRegistersSets(): Unit = Doc(1u).use { doc ->
        val c = doc.counter("c")
        c.add(10)
        c.add(-3)
        assertEquals(7L, c.count)
        assertEquals(Node.Counter(7), c.toNode())
        val r = doc.register("r")
        assertNull(r.value())
        r.set(Value.Str("v1"))
        r.set(Value.Str("v2"))
        assertEquals("v2", r.current)
        assertEquals(Node.Register(Value.Str("v2")), r.toNode())
        val s = doc.set("s")
        s.add(Value.Int(3))
        s.addAll(listOf(Value.Int(1), Value.Int(2), Value.Str("x")))
        s.remove(Value.Int(2))
        assertTrue(s.contains(Value.Int(1)))
        assertFalse(s.contains(Value.Int(2)))
        assertEquals(listOf(1L, 3L, "x"), s.elements)
        s.removeAll(listOf(Value.Int(1), Value.Int(3)))
        assertEquals(listOf("x"), s.elements)
        assertEquals(Node.SetValues(listOf(Value.Str("x"))), s.toNode())
        assertEquals(mapOf("c" to 7L, "r" to "v2", "s" to listOf("x")), doc.contents)
    }

    @Test
    fun transactionsCommitOnceOrRollBack(): Unit = Doc(1u).use { doc ->
        val t = doc.text("t")
        val events = CopyOnWriteArrayList<ChangeEvent>()
        doc.onChange { events.add(it) }.use {
            doc.transact {
                t.insert(0, "ab")
                t.insert(2, "cd")
                assertTrue(doc.inTransaction())
                assertThrows<ConvergeException.TransactionOpen> { doc.begin() }
                assertThrows<ConvergeException.TransactionOpen> { doc.save() }
                assertThrows<ConvergeException.TransactionOpen> { doc.applyUpdate(ByteArray(0)) }
            }
            assertEquals(1, events.size)
            assertEquals(listOf(Change(t.id(), "t", Changed.Range(0, 0, 4))), events[0].changes)
            assertThrows<IllegalStateException> {
                doc.transact {
                    t.insert(0, "zz")
                    throw IllegalStateException("abort")
                }
            }
            assertEquals("abcd", t.text)
            assertFalse(doc.inTransaction())
            assertThrows<ConvergeException.NoTransaction> { doc.commit() }
            doc.begin()
            val c = doc.counter("n")
            c.add(2)
            val e = doc.commit()
            assertEquals(ChangeOrigin.LOCAL, e.origin)
            assertEquals(Changed.NewValue, e.changes.single().what)
            assertEquals(2, events.size)
            doc.rollback() // nothing open: no-op
        }
    }

    @Test
    fun twoDocumentsSyncByDelta() {
        Doc(1u).use { a ->
            Doc(2u).use { b ->
                a.text("t").insert(0, "hello")
                b.applyUpdate(a.encodeUpdatesSince(null))
                assertEquals("hello", b.text("t").text)
                val bSeen = b.version()
                a.text("t").insert(5, " world")
                b.text("t").insert(0, ">> ")
                val fromA = a.encodeUpdatesSince(bSeen)
                val fromB = b.encodeUpdatesSince(a.version())
                val report = b.applyUpdate(fromA)
                assertEquals(1, report.applied)
                assertEquals(0, report.pending)
                a.applyUpdate(fromB)
                assertEquals(a.text("t").text, b.text("t").text)
                assertEquals(">> hello world", a.text("t").text)
                assertArrayEquals(a.version(), b.version())
                // Applying again changes nothing.
                assertEquals(1, a.applyUpdate(fromB).duplicates)
                // save / load keeps the replica and the content.
                Doc.load(a.save()).use { c ->
                    assertEquals(1uL, c.replica())
                    assertEquals(">> hello world", c.text("t").text)
                    assertArrayEquals(a.save(), c.save())
                }
                Doc.load(a.saveHistory()).use { h -> assertEquals(a.contents, h.contents) }
            }
        }
    }

    @Test
    fun outOfOrderUpdatesWaitAndMergeUpdatesCombines() {
        Doc(1u).use { a ->
            a.text("t").insert(0, "1")
            val u1 = a.encodeUpdatesSince(null)
            val v1 = a.version()
            a.text("t").insert(1, "2")
            val u2 = a.encodeUpdatesSince(v1)
            Doc(2u).use { b ->
                val r = b.applyUpdate(u2) // depends on u1, which b lacks
                assertEquals(0, r.applied)
                assertEquals(1, r.pending)
                assertEquals(1, b.pendingCount())
                assertTrue(r.missing.isNotEmpty())
                assertEquals("", b.text("t").text)
                val r2 = b.applyUpdate(u1)
                assertEquals(2, r2.applied)
                assertEquals("12", b.text("t").text)
                assertEquals(0, b.pendingCount())
            }
            val merged = mergeUpdates(listOf(u2, u1))
            Doc(3u).use { c ->
                c.applyUpdate(merged)
                assertEquals("12", c.text("t").text)
            }
            assertThrows<ConvergeException.Decode> { mergeUpdates(listOf(byteArrayOf(9, 9, 9))) }
        }
    }

    @Test
    fun badBytesThrowAndLeaveTheDocumentUnchanged(): Unit = Doc(1u).use { doc ->
        doc.text("t").insert(0, "keep me")
        doc.map("m").put("k", 1)
        val good = doc.encodeUpdatesSince(null)
        val before = doc.save()
        val version = doc.version()
        val garbage = listOf(
            ByteArray(0),
            byteArrayOf(0xff.toByte(), 0, 1, 2),
            good.copyOf(good.size - 1),
            good.copyOf(good.size + 5),
            good.copyOf().also { it[it.size / 2] = (it[it.size / 2] + 1).toByte() },
            before.copyOf(before.size / 2),
        )
        for (bytes in garbage) {
            try {
                doc.applyUpdate(bytes)
            } catch (e: ConvergeException) {
                assertTrue(e.code in setOf("DECODE", "INVALID_UPDATE", "CONFLICT"), e.code)
            }
            assertArrayEquals(before, doc.save())
            assertArrayEquals(version, doc.version())
            assertThrows<ConvergeException> { Doc.load(bytes) }
        }
        val e = assertThrows<ConvergeException.Decode> { doc.encodeUpdatesSince(byteArrayOf(0xff.toByte())) }
        assertEquals("DECODE", e.code)
        assertTrue(e.message!!.isNotEmpty())
        assertThrows<ConvergeException.Decode> { Doc.load(byteArrayOf(1, 2, 3)) }
        assertArrayEquals(before, doc.save())
    }

    @Test
    fun editErrorsAreTyped(): Unit = Doc(1u).use { doc ->
        val t = doc.text("t")
        assertThrows<ConvergeException.OutOfBounds> { t.insert(1, "x") }
        assertThrows<ConvergeException.OutOfBounds> { t.insert(-1, "x") }
        assertThrows<ConvergeException.OutOfBounds> { t.delete(0, 1) }
        // A handle of the wrong kind for an id: the kernel checks the kind.
        val wrong = ContainerId(ContainerKind.TEXT, t.id().origin)
        val asMap = doc.container(ContainerId(ContainerKind.MAP, wrong.origin)).asMap()
        asMap.put("k", 1) // a root map of the same name is another container: fine
        val unknown = ContainerId(ContainerKind.TEXT, ContainerOrigin.Created(77u, 1u))
        assertThrows<ConvergeException.UnknownContainer> { doc.container(unknown).asText().insert(0, "x") }
        Doc.withMemoryLimit(1u, 64u).use { small ->
            val e = assertThrows<ConvergeException.BudgetExceeded> {
                small.text("t").insert(0, "x".repeat(1000))
            }
            assertEquals("BUDGET_EXCEEDED", e.code)
            assertEquals("", small.text("t").text)
        }
    }

    @Test
    fun eventsArriveAfterTheCallAndMayReenter(): Unit = Doc(1u).use { doc ->
        val t = doc.text("t")
        val seen = CopyOnWriteArrayList<String>()
        val reentered = java.util.concurrent.atomic.AtomicBoolean()
        val sub = doc.onChange { event ->
            // Re-entering the document from a listener must not deadlock.
            seen.add(t.text)
            if (event.origin == ChangeOrigin.LOCAL && !reentered.getAndSet(true)) doc.counter("n").add(1)
        }
        t.insert(0, "a")
        assertEquals(listOf("a", "a"), seen) // the text edit, then the nested counter edit
        assertEquals(1L, doc.counter("n").count)
        sub.close()
        t.insert(1, "b")
        assertEquals(2, seen.size)

        Doc(2u).use { other ->
            val remote = CopyOnWriteArrayList<ChangeEvent>()
            other.onChange { remote.add(it) }.use {
                other.text("t") // names the root so events carry the name
                other.applyUpdate(doc.encodeUpdatesSince(null))
                assertEquals(1, remote.size)
                assertEquals(ChangeOrigin.REMOTE, remote[0].origin)
                val byName = remote[0].changes.associateBy { it.rootName }
                assertEquals(Changed.Range(0, 0, 2), byName["t"]!!.what)
                assertEquals(Changed.NewValue, byName["n"]?.what ?: remote[0].changes.first { it.container.kind == ContainerKind.COUNTER }.what)
                val id = remote[0].changes.first { it.rootName == "t" }.container
                assertEquals("ab", other.container(id).asText().text)
                assertEquals("t", other.rootName(id))
            }
        }
    }

    @Test
    fun oneDocumentSharedAcrossThreads(): Unit = Doc(1u).use { doc ->
        val threads = 4
        val perThread = 500
        val pool = Executors.newFixedThreadPool(threads)
        val start = CountDownLatch(1)
        val counted = java.util.concurrent.atomic.AtomicLong()
        doc.onChange { counted.incrementAndGet() }.use {
            val futures = (0 until threads).map { n ->
                pool.submit {
                    start.await()
                    val t = doc.text("t") // a handle per thread; one shared document
                    repeat(perThread) {
                        t.insert(0, ('a' + n).toString())
                        doc.counter("c").add(1)
                        doc.list("l").add(n)
                    }
                }
            }
            start.countDown()
            futures.forEach { it.get(60, TimeUnit.SECONDS) }
        }
        pool.shutdown()
        val total = threads * perThread
        assertEquals(total, doc.text("t").length)
        assertEquals(total.toLong(), doc.counter("c").count)
        assertEquals(total, doc.list("l").size)
        assertEquals(3L * total, counted.get())
        for (n in 0 until threads) {
            assertEquals(perThread, doc.text("t").text.count { it == 'a' + n })
        }
        Doc.load(doc.save()).use { copy -> assertEquals(doc.contents, copy.contents) }
    }

    @Test
    fun handlesOutliveTheirDocObject() {
        val t = Doc(5u).use { it.text("t") } // the Doc object is closed, its state lives on
        t.insert(0, "still here")
        assertEquals("still here", t.text)
        t.close()
    }

    @Test
    fun rootsHaveStableIdsAcrossReplicas() {
        Doc(1u).use { a ->
            Doc(2u).use { b ->
                assertEquals(a.text("x").id(), b.text("x").id())
                assertNotEquals(a.text("x").id(), a.text("y").id())
                assertNotEquals(a.text("x").id(), a.map("x").id())
                assertEquals(7uL, Doc(7u).use { it.replica() })
                Doc.withMemoryLimit(3u, 1_000_000u).use { limited ->
                    val before = limited.memoryUsed()
                    limited.text("x").insert(0, "a".repeat(100))
                    assertTrue(limited.memoryUsed() > before)
                }
            }
        }
    }
}
