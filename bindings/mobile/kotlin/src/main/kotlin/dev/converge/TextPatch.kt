// Text edits written into one byte array on the Kotlin side and sent across the FFI in one
// call (the format of src/edits.rs).
package dev.converge

import java.nio.charset.MalformedInputException

/** One text edit for [applyPatches]: delete [delete] chars at [pos], then insert [insert]. */
data class TextPatch(val pos: Int, val delete: Int, val insert: String)

/**
 * Applies [patches] in order in one call: one transaction (or the open one), one event. If a
 * patch fails, none is applied (inside a transaction too). Positions count chars (Unicode scalar
 * values), as [DocText.splice] does.
 */
fun DocText.applyPatches(patches: List<TextPatch>) {
    val out = EditBuffer(patches.size * 8)
    for (p in patches) {
        nonNegative("position", p.pos)
        nonNegative("delete", p.delete)
        out.edit(p.pos, p.delete, p.insert)
    }
    applyPatchesEncoded(out.bytes())
}

/** Applies `(pos, delete, insert)` patches in one call: one update, one event. */
fun DocText.applyPatches(vararg patches: Triple<Int, Int, String>) =
    applyPatches(patches.map { (pos, del, ins) -> TextPatch(pos, del, ins) })

internal fun nonNegative(what: String, i: Int) {
    if (i < 0) throw ConvergeException.OutOfBounds("$what $i is negative")
}

/** A growable byte array holding edits in the format of src/edits.rs. */
internal class EditBuffer(capacity: Int) {
    private var buf = ByteArray(maxOf(capacity, 16))
    var size = 0
        private set

    /**
     * Appends one edit; returns the chars [insert] holds. A lone surrogate throws (as uniffi's
     * own `String` lowering does) and leaves the buffer as it was.
     */
    fun edit(pos: Int, delete: Int, insert: String): Int {
        val n = insert.length
        // The UTF-8 length is at most 3 bytes per UTF-16 unit: reserve that, write the bytes,
        // then fill in the length (a varint padded to lenBytes) in front of them. [size] moves
        // only once the whole edit is written.
        val lenBytes = if (n * 3 < 0x80) 1 else if (n * 3 < 0x4000) 2 else if (n * 3 < 0x200000) 3 else 5
        reserve(10 + 10 + lenBytes + n * 3)
        var p = varint(varint(size, pos.toLong()), delete.toLong())
        val lenAt = p
        p += lenBytes
        val b = buf
        var chars = 0
        var i = 0
        while (i < n) {
            val c = insert[i].code
            when {
                c < 0x80 -> b[p++] = c.toByte()
                c < 0x800 -> {
                    b[p++] = (0xc0 or (c shr 6)).toByte()
                    b[p++] = (0x80 or (c and 0x3f)).toByte()
                }
                c in 0xd800..0xdbff && i + 1 < n && insert[i + 1].code in 0xdc00..0xdfff -> {
                    val cp = 0x10000 + ((c - 0xd800) shl 10) + (insert[i + 1].code - 0xdc00)
                    i++
                    b[p++] = (0xf0 or (cp shr 18)).toByte()
                    b[p++] = (0x80 or ((cp shr 12) and 0x3f)).toByte()
                    b[p++] = (0x80 or ((cp shr 6) and 0x3f)).toByte()
                    b[p++] = (0x80 or (cp and 0x3f)).toByte()
                }
                c in 0xd800..0xdfff -> throw MalformedInputException(1) // as uniffi's String lowering
                else -> {
                    b[p++] = (0xe0 or (c shr 12)).toByte()
                    b[p++] = (0x80 or ((c shr 6) and 0x3f)).toByte()
                    b[p++] = (0x80 or (c and 0x3f)).toByte()
                }
            }
            chars++
            i++
        }
        // The length, as a varint padded to exactly lenBytes bytes (LEB128 allows that).
        var v = p - lenAt - lenBytes
        for (k in 0 until lenBytes) {
            b[lenAt + k] = ((v and 0x7f) or (if (k < lenBytes - 1) 0x80 else 0)).toByte()
            v = v ushr 7
        }
        size = p
        return chars
    }

    fun bytes(): ByteArray = buf.copyOf(size)

    /** Writes [value] as a varint at [at] (room reserved); returns the position after it. */
    private fun varint(at: Int, value: Long): Int {
        var p = at
        var v = value
        while (v >= 0x80) {
            buf[p++] = ((v and 0x7f) or 0x80).toByte()
            v = v ushr 7
        }
        buf[p++] = v.toByte()
        return p
    }

    private fun reserve(n: Int) {
        if (size + n > buf.size) buf = buf.copyOf(maxOf(buf.size * 2, size + n))
    }
}
