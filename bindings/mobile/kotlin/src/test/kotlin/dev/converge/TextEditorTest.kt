package dev.converge

import java.nio.charset.MalformedInputException
import java.util.concurrent.CopyOnWriteArrayList
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class TextEditorTest {
    /** The same calls, direct and through an editor, give the same document and updates. */
    @Test
    fun editorEditsAreTheDirectCallsDeferred() {
        val script: (splice: (Int, Int, String) -> Unit) -> Unit = { splice ->
            splice(0, 0, "héllo 🙂 wörld")
            splice(6, 1, "→")       // the emoji is one char
            splice(0, 1, "")
            splice(12, 0, "!")
            splice(3, 2, "ab\u0000c")
        }
        val direct = Doc(7u).use { doc ->
            val t = doc.text("t")
            script { p, d, s -> t.splice(p, d, s) }
            t.text to doc.save()
        }
        Doc(7u).use { doc ->
            val t = doc.text("t")
            t.edit { e ->
                script { p, d, s -> e.splice(p, d, s) }
                assertEquals(direct.first.codePointCount(0, direct.first.length), e.length)
                assertEquals("", t.text) // not flushed yet: other handles see the old text
                assertEquals(direct.first, e.text) // reading through the editor flushes
            }
            assertEquals(direct.first, t.text)
            assertArrayEquals(direct.second, doc.save())
        }
    }

    @Test
    fun errorsAreThrownAtTheCallWithTheDirectMessage(): Unit = Doc(1u).use { doc ->
        val t = doc.text("t")
        t.insert(0, "abc")
        val expected = listOf<(DocText) -> Unit>(
            { it.splice(2, 2, "x") },
            { it.splice(4, 0, "x") },
            { it.insert(5, "x") },
            { it.insert(-3, "x") },
            { it.splice(-1, 0, "x") },
            { it.splice(0, -2, "x") },
            { it.delete(2, 1) },
            { it.delete(1, 9) },
            { it.delete(-1, 1) },
            { it.splice(Int.MAX_VALUE, Int.MAX_VALUE, "") },
        ).map { call -> assertThrows<ConvergeException.OutOfBounds> { call(t) }.message }
        t.edit { e ->
            e.insert(3, "d") // the editor's length includes its own unflushed edits
            e.delete(3, 4)
            val got = listOf<(TextEditor) -> Unit>(
                { it.splice(2, 2, "x") },
                { it.splice(4, 0, "x") },
                { it.insert(5, "x") },
                { it.insert(-3, "x") },
                { it.splice(-1, 0, "x") },
                { it.splice(0, -2, "x") },
                { it.delete(2, 1) },
                { it.delete(1, 9) },
                { it.delete(-1, 1) },
                { it.splice(Int.MAX_VALUE, Int.MAX_VALUE, "") },
            ).map { call -> assertThrows<ConvergeException.OutOfBounds> { call(e) }.message }
            assertEquals(expected, got)
            assertThrows<MalformedInputException> { e.insert(0, "\ud800x") } // lone surrogate
            assertThrows<MalformedInputException> { t.insert(0, "\ud800x") }
        }
        assertEquals("abc", t.text)
    }

    @Test
    fun eachFlushedEditIsItsOwnCommitAndEvent(): Unit = Doc(1u).use { doc ->
        val t = doc.text("t")
        val events = CopyOnWriteArrayList<ChangeEvent>()
        doc.onChange { events.add(it) }.use {
            TextEditor(t, flushBytes = 8).use { e ->
                e.insert(0, "ab")
                assertEquals(0, events.size)
                e.insert(2, "cdefghij") // passes 8 bytes: flushed
                assertEquals(2, events.size)
                e.delete(0, 1)
            }
            assertEquals("bcdefghij", t.text)
            assertEquals(3, events.size)
            assertEquals(listOf(Change(t.id(), "t", Changed.Range(0, 1, 0))), events[2].changes)
            events.clear()
            doc.transact { t.edit { e -> e.insert(0, "x"); e.insert(0, "y") } }
            assertEquals(1, events.size) // joined the transaction
            assertEquals("yxbcdefghij", t.text)
        }
    }
}
