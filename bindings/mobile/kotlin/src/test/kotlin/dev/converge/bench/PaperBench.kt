// The mobile benchmark: automerge-paper replayed in one JVM through converge's Kotlin API (one
// call per patch, and the batch call) and through automerge-java, each checked against the
// trace's final text. Run by ../../bench.sh, which also measures the native Rust Doc and passes
// its figures in, and writes the table to perf/mobile.md.
package dev.converge.bench

import dev.converge.Doc
import dev.converge.TextPatch
import dev.converge.applyPatches
import dev.converge.edit
import dev.converge.text
import dev.converge.transact
import java.io.File
import java.util.zip.GZIPInputStream
import org.automerge.ObjectId
import org.automerge.ObjectType
import org.json.JSONArray
import org.json.JSONObject

// Every path reads the same list of patches (the same objects, so the same memory layout: on
// this JVM, walking 260k small strings scattered over the heap costs more than encoding them).
private fun loadTrace(file: File): Pair<List<TextPatch>, String> {
    val json = JSONObject(GZIPInputStream(file.inputStream()).bufferedReader().readText())
    val patches = ArrayList<TextPatch>()
    for (txn in json.getJSONArray("txns")) {
        for (p in (txn as JSONObject).getJSONArray("patches")) {
            val a = p as JSONArray
            patches.add(TextPatch(a.getInt(0), a.getInt(1), a.getString(2)))
        }
    }
    return patches to json.getString("endContent")
}

/** Best wall time in ms over [runs] runs, after [warmup] unmeasured ones. */
private fun best(runs: Int, warmup: Int, end: String, body: () -> String): Double {
    System.gc()
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
    val nativeFfi = System.getProperty("native.ffi")?.toDouble()
    val nativeBatch = System.getProperty("native.batch")?.toDouble()
    val (patches, end) = loadTrace(File(traces, "automerge-paper.json.gz"))
    val n = patches.size

    // One Kotlin call per patch through the buffered editor (each patch its own commit, as a
    // direct `splice` call would be; the edits cross the FFI in 64 KB batches).
    val perCall = best(runs, warmup, end) {
        Doc(1u).use { doc ->
            doc.text("text").use { t ->
                t.edit { e -> for (p in patches) e.splice(p.pos, p.delete, p.insert) }
                t.text
            }
        }
    }
    val perCallTxn = best(runs, warmup, end) {
        Doc(1u).use { doc ->
            doc.text("text").use { t ->
                doc.transact { t.edit { e -> for (p in patches) e.splice(p.pos, p.delete, p.insert) } }
                t.text
            }
        }
    }
    val batch = best(runs, warmup, end) {
        Doc(1u).use { doc ->
            doc.text("text").use { t ->
                t.applyPatches(patches)
                t.text
            }
        }
    }
    val automerge = best(runs, warmup, end) {
        val doc = org.automerge.Document()
        val tx = doc.startTransaction()
        val text = tx.set(ObjectId.ROOT, "text", ObjectType.TEXT)
        for (p in patches) tx.spliceText(text, p.pos.toLong(), p.delete.toLong(), p.insert)
        tx.commit()
        val s = doc.text(text).get()
        doc.free()
        s
    }

    // One FFI call per patch (the generated `DocText.splice`), on the first [direct] patches
    // only: at microseconds per call the whole trace takes too long to repeat. Last, because
    // the JNA memory it leaves behind (weak and phantom references to clean up) slows every
    // path measured after it in this JVM.
    val direct = minOf(n, (System.getProperty("bench.direct") ?: "20000").toInt())
    val head = patches.subList(0, direct)
    val headEnd = Doc(1u).use { doc -> doc.text("text").use { t -> t.applyPatches(head); t.text } }
    val directCall = best(runs, warmup, headEnd) {
        Doc(1u).use { doc ->
            doc.text("text").use { t ->
                for (p in head) t.splice(p.pos, p.delete, p.insert)
                t.text
            }
        }
    }

    val lines = StringBuilder()
    val capture = { s: String -> lines.appendLine(s); println(s) }
    capture("| path (automerge-paper, $n patches) | best ms | ns per patch | over native Rust `Doc` per patch | vs automerge-java |")
    capture("| --- | ---: | ---: | ---: | ---: |")
    val fmt = { name: String, ms: Double, native: Double? ->
        val over = native?.let { "%.0f ns (%.2f× native)".format((ms - it) * 1e6 / n, ms / it) } ?: "n/a"
        capture("| $name | %.1f | %.0f | $over | %.3f× |".format(ms, ms * 1e6 / n, ms / automerge))
    }
    fmt("converge Kotlin, one `TextEditor.splice` call per patch (each its own commit)", perCall, nativePerCall)
    fmt("converge Kotlin, one `TextEditor.splice` call per patch in one transaction", perCallTxn, nativeTxn)
    fmt("converge Kotlin, one `applyPatches` batch call", batch, nativeBatch ?: nativeTxn)
    fmt("converge Kotlin, one FFI call (`DocText.splice`) per patch (first $direct patches, time × $n / $direct)",
        directCall * n / direct, nativePerCall)
    fmt("automerge-java 0.0.7, one `spliceText` per patch in one transaction", automerge, null)
    nativePerCall?.let { capture("| native Rust `Doc`, one `text_splice` per patch (each its own commit) | %.1f | %.0f | — | %.3f× |".format(it, it * 1e6 / n, it / automerge)) }
    nativeTxn?.let { capture("| native Rust `Doc`, all patches in one transaction | %.1f | %.0f | — | %.3f× |".format(it, it * 1e6 / n, it / automerge)) }
    nativeBatch?.let { capture("| native Rust `Doc`, one `text_splice_batch` call (what the batch call makes) | %.1f | %.0f | — | %.3f× |".format(it, it * 1e6 / n, it / automerge)) }
    nativeFfi?.let { fmt("the binding's Rust side without the JVM: `DocText::apply_patches_encoded` on the encoded patches", it, nativeBatch ?: nativeTxn) }
    if (out != null) File(out).writeText(lines.toString())
}
