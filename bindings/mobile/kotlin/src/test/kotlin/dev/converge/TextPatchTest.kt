package dev.converge

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class TextPatchTest {
    @Test
    fun patchesAreOneEventAndAllOrNothing(): Unit = Doc(1u).use { doc ->
        val t = doc.text("t")
        t.applyPatches(listOf(TextPatch(0, 0, "🙂🙂"), TextPatch(1, 1, "é")))
        assertEquals("🙂é", t.text)
        val before = doc.save()
        assertThrows<ConvergeException.OutOfBounds> { t.applyPatches(listOf(TextPatch(0, 0, "z"), TextPatch(-1, 0, "!"))) }
        assertThrows<ConvergeException.OutOfBounds> { t.applyPatches(listOf(TextPatch(0, 0, "z"), TextPatch(9, 0, "!"))) }
        assertThrows<ConvergeException.Decode> { t.applyPatchesEncoded(byteArrayOf(0, 0, 5, 65)) }
        assertThrows<ConvergeException.Decode> { t.spliceEncoded(byteArrayOf(0x80.toByte())) }
        assertEquals("🙂é", t.text)
        assertArrayEquals(before, doc.save())
        // A long insert (a length varint of several bytes) round-trips.
        val long = "ü".repeat(70_000)
        t.applyPatches(listOf(TextPatch(2, 0, long)))
        assertEquals("🙂é$long", t.text)
    }
}
