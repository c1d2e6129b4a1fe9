// The buffered text editor: one Kotlin call per edit, checked at once, sent across the FFI in
// batches (DocText.spliceEncoded, the format of src/edits.rs).
package dev.converge

/**
 * Edits this text through a [TextEditor] that sends its edits to the document in batches
 * instead of one FFI call per edit, and flushes when [block] returns (or throws). See
 * [TextEditor] for what is checked at each call and what waits for the flush.
 */
inline fun <T> DocText.edit(block: (TextEditor) -> T): T = TextEditor(this).use(block)

/**
 * Buffered edits of one text: each [splice], [insert] or [delete] is checked at once against
 * the text's length (so a bad position throws the same `ConvergeException.OutOfBounds`, with
 * the same message, at the same call as [DocText.splice] would) and written into a byte
 * buffer; the buffer crosses the FFI in one call when it is [flush]ed: by [close], by
 * reading [text], and whenever it grows past [flushBytes].
 *
 * Flushed edits are applied exactly as the same calls on [DocText] would have been, in order:
 * outside a transaction each edit commits by itself (its own update and change event); inside
 * one (`doc.transact { text.edit { ... } }`) they join it. What differs is *when*:
 *
 * - Other objects (the [Doc], other handles, other threads) see the edits only after a flush;
 *   change events for them are delivered at the flush. Flush before reading or syncing
 *   through anything but this editor (closing the editor, or leaving [DocText.edit], does).
 * - The editor takes the text's length once, when it is created, and tracks it from its own
 *   edits: while it is open it must be the text's only writer (no other thread, handle or
 *   `applyUpdate` changing that text), like a transaction is the document's.
 * - An error the editor cannot check locally (the document's memory limit) is thrown by the
 *   call that flushes; the edits before the failing one stay applied, the rest are dropped.
 *
 * Not thread-safe: use an editor from one thread at a time.
 */
class TextEditor(private val target: DocText, private val flushBytes: Int = 1 shl 16) : AutoCloseable {
    private var out = EditBuffer(256)
    private var len: Int = target.len()

    /** Length in chars, including the edits not flushed yet. */
    val length: Int get() = len

    /** The text with every edit made so far (flushes first). */
    val text: String
        get() {
            flush()
            return target.value()
        }

    /** Replaces [delete] chars at [pos] with [insert]. */
    fun splice(pos: Int, delete: Int, insert: String) {
        nonNegative("position", pos)
        nonNegative("delete", delete)
        val end = pos.toLong() + delete
        if (end > len) throw outOfBounds(end, len)
        len = len - delete + out.edit(pos, delete, insert)
        if (out.size >= flushBytes) flush()
    }

    /** Inserts [s] at char position [pos]. */
    fun insert(pos: Int, s: String) = splice(pos, 0, s)

    /** Deletes the chars in [start] until [end]. */
    fun delete(start: Int, end: Int) {
        nonNegative("start", start)
        nonNegative("end", end)
        if (start > end || end > len) throw outOfBounds(maxOf(start, end).toLong(), len)
        splice(start, end - start, "")
    }

    /** Sends the buffered edits to the document (one FFI call; nothing if there are none). */
    fun flush() {
        if (out.size == 0) return
        val bytes = out.bytes()
        out = EditBuffer(256)
        try {
            target.spliceEncoded(bytes)
        } finally {
            // Whatever the document did, the editor's length is the document's again.
            len = target.len()
        }
    }

    override fun close() = flush()
}

// The kernel's message for a range past the end (`DocError::OutOfBounds`).
private fun outOfBounds(index: Long, len: Int) =
    ConvergeException.OutOfBounds("position $index is out of bounds for length $len")
