// The thin Kotlin layer over the uniffi-generated bindings (generated/dev/converge/converge_ffi.kt):
// host idiom only (plain Kotlin values, properties, transactions as blocks, listeners as lambdas).
// Every document object is AutoCloseable already, so `Doc(1u).use { ... }` works as is.
package dev.converge

/** A Kotlin value as a [Value]: null, Boolean, Int/Long, Float/Double, String, ByteArray. */
fun valueOf(x: Any?): Value = when (x) {
    null -> Value.Null
    is Value -> x
    is Boolean -> Value.Bool(x)
    is Int -> Value.Int(x.toLong())
    is Long -> Value.Int(x)
    is Float -> Value.Float(x.toDouble())
    is Double -> Value.Float(x)
    is String -> Value.Str(x)
    is ByteArray -> Value.Bytes(x)
    else -> throw IllegalArgumentException("no converge value for ${x::class}")
}

/** This value as a plain Kotlin value (null, Boolean, Long, Double, String or ByteArray). */
fun Value.toKotlin(): Any? = when (this) {
    is Value.Null -> null
    is Value.Bool -> value
    is Value.Int -> value
    is Value.Float -> value
    is Value.Str -> value
    is Value.Bytes -> value
}

/**
 * This tree as plain Kotlin data: maps as `Map<String, Any?>`, lists and sets as `List<Any?>`,
 * text as `String`, counters as `Long`, registers and scalars as [toKotlin] gives them.
 */
fun Node.toKotlin(): Any? = when (this) {
    is Node.Scalar -> value.toKotlin()
    is Node.MapEntries -> entries.mapValues { it.value.toKotlin() }
    is Node.ListItems -> items.map { it.toKotlin() }
    is Node.Text -> text
    is Node.Counter -> value
    is Node.Register -> value?.toKotlin()
    is Node.SetValues -> values.map { it.toKotlin() }
}

/** The stable error code (`"DECODE"`, `"OUT_OF_BOUNDS"`, ...), the same in every binding. */
val ConvergeException.code: String
    get() = when (this) {
        is ConvergeException.Decode -> "DECODE"
        is ConvergeException.OutOfBounds -> "OUT_OF_BOUNDS"
        is ConvergeException.InvalidPosition -> "INVALID_POSITION"
        is ConvergeException.WrongKind -> "WRONG_KIND"
        is ConvergeException.UnknownContainer -> "UNKNOWN_CONTAINER"
        is ConvergeException.InvalidUpdate -> "INVALID_UPDATE"
        is ConvergeException.Conflict -> "CONFLICT"
        is ConvergeException.BudgetExceeded -> "BUDGET_EXCEEDED"
        is ConvergeException.TooDeep -> "TOO_DEEP"
        is ConvergeException.TransactionOpen -> "TRANSACTION_OPEN"
        is ConvergeException.NoTransaction -> "NO_TRANSACTION"
        is ConvergeException.Other -> message.orEmpty().substringBefore(':')
    }

/**
 * Runs [block] in a transaction: its edits commit as one update and one change event, or, if
 * it throws, are rolled back and the exception propagates. A transaction belongs to the
 * document, not the thread: don't open one while other threads edit the same document.
 */
inline fun <T> Doc.transact(block: () -> T): T {
    begin()
    val result = try {
        block()
    } catch (e: Throwable) {
        rollback()
        throw e
    }
    commit()
    return result
}

/**
 * Calls [block] with every change event from now on, after the call that caused it returns
 * (on that call's thread). Close the result to stop. An exception thrown by [block] goes to
 * the thread's uncaught-exception handler instead of unwinding through Rust.
 */
fun Doc.onChange(block: (ChangeEvent) -> Unit): AutoCloseable {
    val id = subscribe(object : ChangeListener {
        override fun onChange(event: ChangeEvent) {
            try {
                block(event)
            } catch (e: Throwable) {
                val t = Thread.currentThread()
                t.uncaughtExceptionHandler?.uncaughtException(t, e)
            }
        }
    })
    return AutoCloseable { unsubscribe(id) }
}

/** The text's content. */
val DocText.text: String get() = value()

/** Length in chars (Unicode scalar values, the unit of [DocText.insert]). */
val DocText.length: Int get() = len()

/** Number of live keys. */
val DocMap.size: Int get() = len()

/** Sets [key] to a plain Kotlin value (see [valueOf]). */
fun DocMap.put(key: String, value: Any?) = set(key, valueOf(value))

/** The scalar at [key] as a plain Kotlin value, or null if absent or a container. */
fun DocMap.getValue(key: String): Any? = (get(key) as? Item.Scalar)?.value?.toKotlin()

/** Number of elements. */
val DocList.size: Int get() = len()

/** Appends a plain Kotlin value (see [valueOf]). */
fun DocList.add(value: Any?) = push(valueOf(value))

/** The counter's value. */
val DocCounter.count: Long get() = value()

/** The register's value as a plain Kotlin value (null if never written). */
val DocRegister.current: Any? get() = value()?.toKotlin()

/** The set's elements as plain Kotlin values, ascending. */
val DocSet.elements: List<Any?> get() = values().map { it.toKotlin() }

/** The document's named roots as plain Kotlin data (see [Node.toKotlin]). */
val Doc.contents: Map<String, Any?> get() = namedRoots().mapValues { it.value.toKotlin() }

/** The handle, if this item is a nested map. */
fun Item.asMap(): DocMap = (this as? Item.Map)?.map ?: throw kindError("map")

/** The handle, if this item is a nested list. */
fun Item.asList(): DocList = (this as? Item.List)?.list ?: throw kindError("list")

/** The handle, if this item is a nested text. */
fun Item.asText(): DocText = (this as? Item.Text)?.text ?: throw kindError("text")

/** The handle, if this item is a nested counter. */
fun Item.asCounter(): DocCounter = (this as? Item.Counter)?.counter ?: throw kindError("counter")

/** The handle, if this item is a nested register. */
fun Item.asRegister(): DocRegister = (this as? Item.Register)?.register ?: throw kindError("register")

/** The handle, if this item is a nested set. */
fun Item.asSet(): DocSet = (this as? Item.Set)?.set ?: throw kindError("set")

private fun Item.kindError(kind: String) =
    ConvergeException.WrongKind("expected a $kind, found ${this::class.simpleName}")
