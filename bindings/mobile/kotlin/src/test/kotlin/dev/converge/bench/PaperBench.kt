// The mobile benchmark: automerge-paper replayed in one JVM through converge's Kotlin API (one
// call per patch, and the batch call) and through automerge-java, each checked against the
// trace's final text. Run by ../../bench.sh, which also measures the native Rust Doc and passes
// its figures in, and writes the table to perf/mobile.md.
package dev.converge.bench

import dev.converge.Doc
import dev.converge.TextPatch
import dev.converge.applyPatches
import dev.converge.text
import java.io.File
import java.util.zip.GZIPInputStream
import org.automerge.ObjectId
import org.automerge.ObjectType
import org.json.JSONArray
import org.json.JSONObject

private class Patch(val pos: Int, val del: Int, val ins: String)

private fun loadTrace(file: File): Pair<List<Patch>, String> {
    val json = JSONObject(GZIPInputStream(file.inputStream()).bufferedReader().readText())
    val patches = ArrayList<Patch>()
    for (txn in json.getJSONArray("txns")) {
        for (p in (txn as JSONObject).getJSONArray("patches")) {
            val a = p as JSONArray
            patches.add(Patch(a.getInt(0), a.getInt(1), a.getString(2)))
        }
    }
    return patches to json.getString("endContent")
}

/** Best wall time in ms over [runs] runs, after [warmup] unmeasured ones. */
private fun best(runs: Int, warmup: Int, end: String, body: () -> String): Double {
    var best = Double.MAX_VALUE
    repeat(warmup + runs) { i ->
        val t0 = System.nanoTime()
        val text = body()
        val ms = (System.nanoTime() - t0) / 1e6
        check(text == end) { "final text differs (${text.length} vs ${end.length} chars)" }
        if (i >= warmup) best = minOf(best, ms)
    }
    return best
}

fun main() {
    val traces = File(System.getProperty("converge.traces") ?: "../../../../shared/traces")
    val runs = (System.getProperty("bench.runs") ?: "5").toInt()
    val warmup = (System.getProperty("bench.warmup") ?: "2").toInt()
    val out = System.getProperty("bench.out")
    val nativePerCall = System.getProperty("native.percall")?.toDouble()
    val nativeTxn = System.getProperty("native.txn")?.toDouble()
    val (patches, end) = loadTrace(File(traces, "automerge-paper.json.gz"))
    val n = patches.size

    val perCall = best(runs, warmup, end) {
        Doc(1u).use { doc ->
            doc.text("text").use { t ->
                for (p in patches) t.splice(p.pos, p.del, p.ins)
                t.text
            }
        }
    }
    val perCallTxn = best(runs, warmup, end) {
        Doc(1u).use { doc ->
            doc.text("text").use { t ->
                doc.begin()
                for (p in patches) t.splice(p.pos, p.del, p.ins)
                doc.commit()
                t.text
            }
        }
    }
    val batch = best(runs, warmup, end) {
        Doc(1u).use { doc ->
            doc.text("text").use { t ->
                t.applyPatches(patches.map { TextPatch(it.pos, it.del, it.ins) })
                t.text
            }
        }
    }
    val automerge = best(runs, warmup, end) {
        val doc = org.automerge.Document()
        val tx = doc.startTransaction()
        val text = tx.set(ObjectId.ROOT, "text", ObjectType.TEXT)
        for (p in patches) tx.spliceText(text, p.pos.toLong(), p.del.toLong(), p.ins)
        tx.commit()
        val s = doc.text(text).get()
        doc.free()
        s
    }

    val lines = StringBuilder()
    val capture = { s: String -> lines.appendLine(s); println(s) }
    capture("| path (automerge-paper, $n patches) | best ms | ns per patch | over native Rust `Doc` per patch | vs automerge-java |")
    capture("| --- | ---: | ---: | ---: | ---: |")
    val fmt = { name: String, ms: Double, native: Double? ->
        val over = native?.let { "%.0f ns (%.2f× native)".format((ms - it) * 1e6 / n, ms / it) } ?: "n/a"
        capture("| $name | %.1f | %.0f | $over | %.3f× |".format(ms, ms * 1e6 / n, ms / automerge))
    }
    fmt("converge Kotlin, one `splice` call per patch (each its own commit)", perCall, nativePerCall)
    fmt("converge Kotlin, one `splice` call per patch in one transaction", perCallTxn, nativeTxn)
    fmt("converge Kotlin, one `applyPatches` batch call", batch, nativeTxn)
    fmt("automerge-java 0.0.7, one `spliceText` per patch in one transaction", automerge, null)
    nativePerCall?.let { capture("| native Rust `Doc`, one `text_splice` per patch (each its own commit) | %.1f | %.0f | — | %.3f× |".format(it, it * 1e6 / n, it / automerge)) }
    nativeTxn?.let { capture("| native Rust `Doc`, all patches in one transaction | %.1f | %.0f | — | %.3f× |".format(it, it * 1e6 / n, it / automerge)) }
    if (out != null) File(out).writeText(lines.toString())
}
