/**
 * Told of every element written to or removed from a stored hash or set, so
 * replication can version elements one by one (field-level merge for
 * hashes, an add-wins set). Only containers stored in a replicated keyspace
 * carry an observer; temporary values computed by commands never do.
 */
export interface ElementObserver {
  /**
   * `previous` is the element's value before the change (hash fields;
   * undefined for set members and new fields); `meta` is what its node
   * carried (the node is already gone when an element was removed).
   */
  elementChanged(container: object, element: string, present: boolean, previous: string | undefined, meta: unknown): void;
}
