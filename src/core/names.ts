// Names chosen by users (step ids, params, profiles, matrix axes, metric and claim ids) never meet
// JavaScript's prototypes: `toString`, `constructor`, `hasOwnProperty` and `__proto__` are ordinary
// names. Records keyed by them have no prototype (a lookup of a name that is not there is undefined,
// and `__proto__` is a key like any other), or a lookup goes through `own`.

/** An empty record with no prototype. */
export function nullRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** A prototype-free copy of a record's own entries (`__proto__` included). */
export function toNullRecord<T>(entries: Iterable<readonly [string, T]> | Record<string, T> | null | undefined): Record<string, T> {
  const out = nullRecord<T>();
  if (!entries) return out;
  const list = Symbol.iterator in entries ? (entries as Iterable<readonly [string, T]>) : Object.entries(entries as Record<string, T>);
  for (const [k, v] of list) out[k] = v;
  return out;
}

/** `obj[key]` when `key` is the object's own property, else undefined (never an inherited member). */
export function own<T = unknown>(obj: unknown, key: string | number): T | undefined {
  return obj !== null && typeof obj === 'object' && Object.prototype.hasOwnProperty.call(obj, key) ? ((obj as Record<string | number, unknown>)[key] as T) : undefined;
}

/** Sets `obj[key]` as an own data property, also for `__proto__` (which plain assignment turns into a prototype change). */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** The names tests throw at every lookup. */
export const PROTOTYPE_NAMES = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'] as const;
