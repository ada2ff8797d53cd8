/**
 * The ordered index of a sorted set: a counted B+tree over (score, member)
 * (an order-statistic tree). Leaves hold up to MAX members in order with
 * their scores in a parallel packed array; inner nodes hold their
 * children's sizes and lowest members. Rank, select-by-rank, insert and
 * remove are O(log n) with a handful of cache lines per level, which keeps
 * 10 million members fast where a pointer-per-level skiplist in JS is not.
 *
 * Positions are found with a monotone predicate `before(score, node)` that
 * holds on a prefix of the order: the count of members it holds for is a
 * rank, and the same descent finds where to insert or what to remove.
 */

/** One member of a sorted set: the dict entry and the tree element are this one object. */
export class ZNode {
  /** Dict bucket chain. */
  next: ZNode | null = null;
  /** Dict hash of key (DictNode). */
  hash = 0;
  /** Per-member metadata for replication layers (OR-set tags, LWW clocks); unused by the commands. */
  meta: unknown = undefined;
  constructor(
    /** The member (latin1 text). */
    public key: string,
    public score: number,
  ) {}
}

/**
 * True on a prefix of the (score, member) order. Takes the node, not its
 * member: most steps of a descent are decided by the packed score alone,
 * and reading the member string of a node in another leaf is a cache miss
 * per step (measured: half the time of a ZADD that moves a member).
 */
export type Before = (score: number, node: ZNode) => boolean;

const MAX = 64;
const MIN = 16;

class Leaf {
  items: ZNode[] = [];
  scores: number[] = [];
  prev: Leaf | null = null;
  next: Leaf | null = null;
}

class Inner {
  children: BNode[] = [];
  sizes: number[] = [];
  lows: ZNode[] = [];
  lowScores: number[] = [];
}

type BNode = Leaf | Inner;

function count(n: BNode): number {
  return n instanceof Leaf ? n.items.length : n.children.length;
}

function total(n: BNode): number {
  if (n instanceof Leaf) return n.items.length;
  let s = 0;
  for (const v of n.sizes) s += v;
  return s;
}

function firstOf(n: BNode): ZNode {
  return n instanceof Leaf ? n.items[0]! : n.lows[0]!;
}

/** How many entries of a node satisfy `before` (binary search over the packed scores). */
function countPrefix(scores: number[], nodes: ZNode[], before: Before): number {
  let lo = 0;
  let hi = scores.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(scores[mid]!, nodes[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether (score, key) still sorts between the neighbours of leaf member i.
 * They are compared by the leaf's packed scores: their nodes (a cache miss
 * each) are read only on a tie.
 */
function staysBetween(leaf: Leaf, i: number, score: number, key: string): boolean {
  const { items, scores } = leaf;
  const before = scores[i - 1]!;
  const after = scores[i + 1]!;
  if (before > score || (before === score && items[i - 1]!.key > key)) return false;
  return after > score || (after === score && items[i + 1]!.key > key);
}

/** The (score, key) an exact descent is after (one command runs at a time, so one shared target). */
let targetScore = 0;
let targetKey = '';
const belowTarget: Before = (score, node) => score < targetScore || (score === targetScore && node.key < targetKey);

/** a.splice(i, 0, v) without allocating the removed-elements array (nodes hold at most MAX + 1). */
function insertAt<T>(a: T[], i: number, v: T): void {
  a.push(v);
  for (let j = a.length - 1; j > i; j--) a[j] = a[j - 1]!;
  a[i] = v;
}

/** a.splice(i, 1) without allocating. */
function removeAt<T>(a: T[], i: number): void {
  const last = a.length - 1;
  for (let j = i; j < last; j++) a[j] = a[j + 1]!;
  a.pop();
}

// Scores get their own copies of insertAt/removeAt. V8 generalizes the
// elements of arrays that meet at one polymorphic store site: sharing the
// helpers with the node arrays turned every packed double array into an
// array of boxed numbers, and each step of a descent then chased a pointer
// to a heap number (measured: 40% of a ZADD that moves a member).

/** insertAt for a packed double array. */
function insertScoreAt(a: number[], i: number, v: number): void {
  a.push(v);
  for (let j = a.length - 1; j > i; j--) a[j] = a[j - 1]!;
  a[i] = v;
}

/** removeAt for a packed double array. */
function removeScoreAt(a: number[], i: number): void {
  const last = a.length - 1;
  for (let j = i; j < last; j++) a[j] = a[j + 1]!;
  a.pop();
}

/** Moves the upper half of n into a new right sibling (linked in for leaves). */
function splitNode(n: BNode): BNode {
  const half = count(n) >>> 1;
  if (n instanceof Leaf) {
    const r = new Leaf();
    r.items = n.items.splice(half);
    r.scores = n.scores.splice(half);
    r.next = n.next;
    r.prev = n;
    if (n.next !== null) n.next.prev = r;
    n.next = r;
    return r;
  }
  const r = new Inner();
  r.children = n.children.splice(half);
  r.sizes = n.sizes.splice(half);
  r.lows = n.lows.splice(half);
  r.lowScores = n.lowScores.splice(half);
  return r;
}

/** Appends right's entries to left (same kind) and unlinks right from the leaf chain. */
function absorb(left: BNode, right: BNode): void {
  if (left instanceof Leaf && right instanceof Leaf) {
    left.items.push(...right.items);
    left.scores.push(...right.scores);
    unlinkLeaf(right);
    return;
  }
  const l = left as Inner;
  const r = right as Inner;
  l.children.push(...r.children);
  l.sizes.push(...r.sizes);
  l.lows.push(...r.lows);
  l.lowScores.push(...r.lowScores);
}

function unlinkLeaf(n: Leaf): void {
  if (n.prev !== null) n.prev.next = n.next;
  if (n.next !== null) n.next.prev = n.prev;
  n.prev = n.next = null;
}

function removeChild(p: Inner, i: number): void {
  const child = p.children[i]!;
  if (child instanceof Leaf) unlinkLeaf(child);
  removeAt(p.children, i);
  removeAt(p.sizes, i);
  removeAt(p.lows, i);
  removeScoreAt(p.lowScores, i);
}

function insertChild(p: Inner, i: number, child: BNode): void {
  insertAt(p.children, i, child);
  insertAt(p.sizes, i, total(child));
  const low = firstOf(child);
  insertAt(p.lows, i, low);
  insertScoreAt(p.lowScores, i, low.score);
}

function setLow(p: Inner, i: number): void {
  const low = firstOf(p.children[i]!);
  p.lows[i] = low;
  p.lowScores[i] = low.score;
}

/** Merges child i with a neighbour when both fit in one node; returns the survivor's index. */
function mergeNeighbour(p: Inner, i: number): number {
  const j = i > 0 ? i - 1 : i + 1;
  const left = Math.min(i, j);
  const a = p.children[left]!;
  const b = p.children[left + 1]!;
  if (count(a) + count(b) > MAX) return i;
  absorb(a, b);
  p.sizes[left]! += p.sizes[left + 1]!;
  removeAt(p.children, left + 1);
  removeAt(p.sizes, left + 1);
  removeAt(p.lows, left + 1);
  removeScoreAt(p.lowScores, left + 1);
  return left;
}

/** The descent path of the last locate (commands run one at a time, so one shared scratch). */
const pathNodes: Inner[] = [];
const pathIdx: number[] = [];
let pathLen = 0;

export class OrderTree {
  private root: BNode = new Leaf();
  private len = 0;
  /** Leaf and index found by the last locate / seek. */
  private leaf: Leaf = this.root as Leaf;
  private leafIdx = 0;

  get size(): number {
    return this.len;
  }

  /** How many members satisfy `before` (their ranks are 0..n-1); leaves the path and position set. */
  countBefore(before: Before): number {
    this.locate(before);
    return this.locatedRank();
  }

  /** How many members sort before (score, key); leaves the path and position set. */
  countBelow(score: number, key: string): number {
    this.locateExact(score, key);
    return this.locatedRank();
  }

  /**
   * Descends to the first member `before` does not hold for, leaving the
   * path and position set. Does not sum the sizes on the way: insert and
   * remove need only the path, and the sizes are more cache lines per level.
   */
  private locate(before: Before): void {
    pathLen = 0;
    let n = this.root;
    while (n instanceof Inner) {
      const k = countPrefix(n.lowScores, n.lows, before);
      const i = k === 0 ? 0 : k - 1;
      pathNodes[pathLen] = n;
      pathIdx[pathLen++] = i;
      n = n.children[i]!;
    }
    this.leaf = n;
    this.leafIdx = countPrefix(n.scores, n.items, before);
  }

  /** The 0-based rank of the position the last locate() left. */
  private locatedRank(): number {
    let rank = this.leafIdx;
    for (let l = 0; l < pathLen; l++) {
      const sizes = pathNodes[l]!.sizes;
      const i = pathIdx[l]!;
      for (let j = 0; j < i; j++) rank += sizes[j]!;
    }
    return rank;
  }

  /** locate() for the position of (score, key). */
  private locateExact(score: number, key: string): void {
    targetScore = score;
    targetKey = key;
    this.locate(belowTarget);
  }

  /** Descends to 0-based rank (< size), leaving the path and position set. */
  private seek(rank: number): void {
    pathLen = 0;
    let n = this.root;
    while (n instanceof Inner) {
      let i = 0;
      while (rank >= n.sizes[i]!) rank -= n.sizes[i++]!;
      pathNodes[pathLen] = n;
      pathIdx[pathLen++] = i;
      n = n.children[i]!;
    }
    this.leaf = n;
    this.leafIdx = rank;
  }

  /** The member at 0-based rank, or null when out of range. */
  at(rank: number): ZNode | null {
    if (rank < 0 || rank >= this.len) return null;
    this.seek(rank);
    return this.leaf.items[this.leafIdx]!;
  }

  /** Inserts node at its (score, key) position. */
  insert(node: ZNode): void {
    this.locateExact(node.score, node.key);
    insertAt(this.leaf.items, this.leafIdx, node);
    insertScoreAt(this.leaf.scores, this.leafIdx, node.score);
    for (let l = 0; l < pathLen; l++) pathNodes[l]!.sizes[pathIdx[l]!]!++;
    this.len++;
    this.repair(this.leafIdx === 0);
  }

  /** Removes node, located by its (score, key) (not yet changed); false if absent. */
  remove(node: ZNode): boolean {
    if (!this.locateNode(node)) return false;
    this.removeHere();
    return true;
  }

  /** Leaves the path and position at node, located by its current (score, key); false if absent. */
  private locateNode(node: ZNode): boolean {
    this.locateExact(node.score, node.key);
    if (this.leaf.items[this.leafIdx] === node) return true;
    // The descent ends past the last member of a leaf when node opens the
    // next one; seeking its rank always lands on it.
    const rank = this.locatedRank();
    if (rank >= this.len) return false;
    this.seek(rank);
    return this.leaf.items[this.leafIdx] === node;
  }

  /**
   * Gives node a new score (zslUpdateScore). When the new score keeps it
   * between its neighbours inside its leaf, the score changes in place: no
   * second descent and no shifting (a leaderboard's small increments).
   * Otherwise node moves: removed where the descent found it, then inserted.
   */
  updateScore(node: ZNode, score: number): void {
    if (!this.locateNode(node)) throw new Error('OrderTree.updateScore: the member is not in the tree');
    const { items, scores } = this.leaf;
    const i = this.leafIdx;
    // Not the leaf's first member: the inner nodes above keep that one's score.
    if (i > 0 && i + 1 < items.length && staysBetween(this.leaf, i, score, node.key)) {
      scores[i] = score;
      node.score = score;
      return;
    }
    this.removeHere();
    node.score = score;
    this.insert(node);
  }

  /** Removes the member at 0-based rank; returns it. */
  removeAt(rank: number): ZNode {
    this.seek(rank);
    const node = this.leaf.items[this.leafIdx]!;
    this.removeHere();
    return node;
  }

  private removeHere(): void {
    removeAt(this.leaf.items, this.leafIdx);
    removeScoreAt(this.leaf.scores, this.leafIdx);
    for (let l = 0; l < pathLen; l++) pathNodes[l]!.sizes[pathIdx[l]!]!--;
    this.len--;
    this.repair(this.leafIdx === 0);
  }

  /**
   * Walks the path up: splits overfull nodes, drops empty ones, merges small
   * ones, and refreshes the lows that can have changed: a node's first
   * member changes only through its first child, so (writes being cache
   * misses) a level is rewritten only when lowChanged says the leaf's first
   * member changed or the level itself changed shape.
   */
  private repair(lowChanged: boolean): void {
    let child: BNode = this.leaf;
    for (let l = pathLen - 1; l >= 0; l--) {
      const p = pathNodes[l]!;
      let i = pathIdx[l]!;
      const n = count(child);
      let changed = lowChanged;
      if (n === 0) {
        removeChild(p, i);
        changed = true;
      } else {
        if (n > MAX) {
          insertChild(p, i + 1, splitNode(child));
          p.sizes[i] = total(child);
          changed = true;
        } else if (n < MIN && p.children.length > 1) {
          i = mergeNeighbour(p, i);
          changed = true;
        }
        if (changed) setLow(p, i);
      }
      lowChanged = changed && i === 0;
      child = p;
    }
    this.fixRoot();
  }

  /**
   * Checks the structure (for tests; O(n)): every inner node's sizes are its
   * children's totals and its lows their first members with their scores,
   * and the total is the size. Throws on the first violation.
   */
  verify(): void {
    const check = (n: BNode): number => {
      if (n instanceof Leaf) {
        if (n.items.length !== n.scores.length) throw new Error('zset tree: leaf arrays differ in length');
        n.items.forEach((x, i) => {
          if (x.score !== n.scores[i]) throw new Error('zset tree: stale leaf score');
        });
        return n.items.length;
      }
      let sum = 0;
      n.children.forEach((c, i) => {
        const size = check(c);
        if (n.sizes[i] !== size) throw new Error('zset tree: stale size');
        if (n.lows[i] !== firstOf(c) || n.lowScores[i] !== firstOf(c).score) throw new Error('zset tree: stale low');
        sum += size;
      });
      return sum;
    };
    if (check(this.root) !== this.len) throw new Error('zset tree: size differs from the members');
  }

  private fixRoot(): void {
    if (count(this.root) > MAX) {
      const old = this.root;
      const right = splitNode(old);
      const r = new Inner();
      insertChild(r, 0, old);
      insertChild(r, 1, right);
      this.root = r;
    }
    while (this.root instanceof Inner && this.root.children.length === 1) this.root = this.root.children[0]!;
    if (this.root instanceof Inner && this.root.children.length === 0) this.root = new Leaf();
  }

  /** Up to `n` members from 0-based rank `from`, ascending or (reverse) descending. */
  *range(from: number, n: number, reverse = false): IterableIterator<ZNode> {
    if (n <= 0 || from < 0 || from >= this.len) return;
    this.seek(from);
    let leaf: Leaf | null = this.leaf;
    let i = this.leafIdx;
    while (n > 0 && leaf !== null) {
      if (i < 0 || i >= leaf.items.length) {
        leaf = reverse ? leaf.prev : leaf.next;
        i = reverse && leaf !== null ? leaf.items.length - 1 : 0;
        continue;
      }
      yield leaf.items[i]!;
      n--;
      i += reverse ? -1 : 1;
    }
  }
}
