// Where a call's time goes (not part of bench.sh; bindings/mobile/README.md, Benchmark). After
// `../generate.sh release`, in bindings/mobile/kotlin:
//   mvn -B -q test-compile exec:java -Dbench.main=dev.converge.bench.CallBenchKt \
//       -Dconverge.lib.dir=$CARGO_TARGET_DIR/release
// Prints the cost of single FFI calls (no argument, an Int result, a String argument) and the
// parts of one applyPatches batch on automerge-paper (encoding in Kotlin, the call, the read).
package dev.converge.bench

import dev.converge.Doc
import dev.converge.EditBuffer
import dev.converge.TextPatch
import dev.converge.text
import java.io.File
import java.util.zip.GZIPInputStream
import org.json.JSONArray
import org.json.JSONObject

private inline fun perCall(name: String, n: Int, body: (Int) -> Unit) {
    var best = Double.MAX_VALUE
    repeat(5) {
        val t0 = System.nanoTime()
        for (i in 0 until n) body(i)
        best = minOf(best, (System.nanoTime() - t0).toDouble() / n)
    }
    println("%-44s %9.0f ns/call (best of 5 x %d)".format(name, best, n))
}

private fun load(file: File): List<TextPatch> {
    val json = JSONObject(GZIPInputStream(file.inputStream()).bufferedReader().readText())
    val patches = ArrayList<TextPatch>()
    for (txn in json.getJSONArray("txns")) {
        for (p in (txn as JSONObject).getJSONArray("patches")) {
            val a = p as JSONArray
            patches.add(TextPatch(a.getInt(0), a.getInt(1), a.getString(2)))
        }
    }
    return patches
}

fun main() {
    val n = (System.getProperty("bench.calls") ?: "20000").toInt()
    Doc(1u).use { doc ->
        doc.text("text").use { t ->
            perCall("Doc.replica() (no argument)", n) { doc.replica() }
            perCall("DocText.len() (Int result, can throw)", n) { t.len() }
            perCall("DocText.splice(i, 0, \"a\") (String argument)", n) { t.splice(it, 0, "a") }
        }
    }

    val traces = File(System.getProperty("converge.traces") ?: "../../../../shared/traces")
    val patches = load(File(traces, "automerge-paper.json.gz"))
    System.gc()
    var best = DoubleArray(4) { Double.MAX_VALUE }
    repeat(7) {
        val t0 = System.nanoTime()
        val out = EditBuffer(patches.size * 8)
        for (p in patches) out.edit(p.pos, p.delete, p.insert)
        val bytes = out.bytes()
        val t1 = System.nanoTime()
        Doc(1u).use { doc ->
            doc.text("text").use { t ->
                val t2 = System.nanoTime()
                t.applyPatchesEncoded(bytes)
                val t3 = System.nanoTime()
                t.text
                val t4 = System.nanoTime()
                val parts = doubleArrayOf((t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6)
                best = DoubleArray(4) { minOf(best[it], parts[it]) }
            }
        }
    }
    println(
        ("applyPatches on automerge-paper (best of 7, ms): encode in Kotlin %.1f, new Doc + text " +
            "handle %.1f, applyPatchesEncoded %.1f, read the text %.1f").format(best[0], best[1], best[2], best[3]),
    )
}
