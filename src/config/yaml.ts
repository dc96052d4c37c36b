/**
 * Config text (YAML; JSON is YAML too) → data, within the bounds of bounds.ts. The text is first
 * parsed into tokens (an iterative parser, whatever the nesting) and their depth checked; only then
 * are the tokens composed into nodes (recursive), and the nodes checked for aliases, expansion,
 * size and duplicate keys before they become data. Key uniqueness is checked here in one pass with a
 * set per mapping: the YAML library compares each key with every earlier one, which grows with the
 * square of a mapping's size.
 */
import {
  Composer, LineCounter, Parser, YAMLParseError, isAlias, isMap, isPair, isScalar, isSeq,
  type CST, type Document, type Node, type YAMLError,
} from 'yaml';
import { CONFIG_BOUNDS, SIZE_LIMIT_TEXT, readError } from './bounds.js';

/**
 * Parse config text. A syntax error or an exceeded bound throws CCR_ERR_CONFIG_READ naming the
 * file (and the line and column when there is one place to blame). Warnings (an unknown `!tag`)
 * count as errors: a config should mean one thing.
 */
export function parseConfigText(text: string, file: string): unknown {
  if (text.length > CONFIG_BOUNDS.bytes) {
    throw readError(`cannot parse config ${file}: ${text.length} characters, over the limit of ${SIZE_LIMIT_TEXT}`);
  }
  const lines = new LineCounter();
  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  const where = (offset: number) => {
    const pos = lines.linePos(offset);
    return ` at line ${pos.line}, column ${pos.col}`;
  };
  checkDepth(tokens, file, where);

  const doc = compose(tokens, text.length);
  const problem: YAMLError | undefined = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    // yaml may append " at line L, column C:" and a source excerpt; keep only the reason.
    const reason = problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw readError(`cannot parse config ${file}${where(problem.pos[0])}: ${reason}`, problem);
  }
  const size = new Expansion(file, where).document(doc.contents);
  const expanded = text.length + size.extra;
  if (expanded > CONFIG_BOUNDS.bytes) {
    throw readError(`cannot parse config ${file}: ${expanded} characters once its aliases are expanded, over the limit of ${SIZE_LIMIT_TEXT}`);
  }
  if (size.nodes > CONFIG_BOUNDS.nodes) {
    throw readError(`cannot parse config ${file}: more than ${CONFIG_BOUNDS.nodes} keys, values and list items (aliases expanded), over the limit`);
  }
  if (size.height > CONFIG_BOUNDS.depth) {
    throw readError(`cannot parse config ${file}: nested deeper than ${CONFIG_BOUNDS.depth} levels once its aliases are expanded, over the limit`);
  }
  try {
    // Every alias was resolved and counted above.
    return doc.toJS({ maxAliasCount: -1 });
  } catch (err) {
    throw readError(`cannot parse config ${file}: ${(err as Error).message}`, err);
  }
}

/** One document, as yaml's parseDocument makes it, without its quadratic key check. */
function compose(tokens: CST.Token[], end: number): Document.Parsed {
  const composer = new Composer({ uniqueKeys: false });
  let doc: Document.Parsed | undefined;
  for (const next of composer.compose(tokens, true, end)) {
    if (doc === undefined) {
      doc = next;
      continue;
    }
    doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents (a config is one)'));
    break;
  }
  return doc!;
}

/** Refuse tokens nested deeper than the bound, walking them with an explicit stack. */
function checkDepth(tokens: CST.Token[], file: string, where: (offset: number) => string): void {
  const stack: Array<[CST.Token, number]> = [];
  for (const t of tokens) if (t.type === 'document' && t.value !== undefined) stack.push([t.value, 0]);
  while (stack.length > 0) {
    const [token, depth] = stack.pop()!;
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    if (depth + 1 > CONFIG_BOUNDS.depth) {
      throw readError(`cannot parse config ${file}${where(token.offset)}: nested deeper than ${CONFIG_BOUNDS.depth} levels, over the limit`);
    }
    for (const item of token.items as CST.CollectionItem[]) {
      if (item.key) stack.push([item.key, depth + 1]);
      if (item.value) stack.push([item.value, depth + 1]);
    }
  }
}

interface Size {
  /** Nodes, aliases expanded. */
  nodes: number;
  /** Characters added by expanding the aliases inside (the expansion minus the `*name` text). */
  extra: number;
  /** Levels of collections, aliases expanded (a scalar is 0). */
  height: number;
}

const EMPTY: Size = { nodes: 0, extra: 0, height: 0 };

/**
 * One pass over the nodes in document order: resolves each alias to the last anchor of that name
 * before it (as yaml does), sizes the tree as if every alias were written out, and checks that each
 * mapping's keys are plain and unique. Anchored nodes remember their size, so each node is visited once.
 */
class Expansion {
  readonly #file: string;
  readonly #where: (offset: number) => string;
  readonly #anchors = new Map<string, Node>();
  readonly #sizes = new Map<Node, Size & { written: number }>();
  readonly #open = new Set<Node>();
  #aliases = 0;

  constructor(file: string, where: (offset: number) => string) {
    this.#file = file;
    this.#where = where;
  }

  document(contents: Node | null): Size {
    return contents === null ? EMPTY : this.#node(contents);
  }

  #fail(node: Node | null | undefined, reason: string): never {
    const at = node?.range ? this.#where(node.range[0]) : '';
    throw readError(`cannot parse config ${this.#file}${at}: ${reason}`);
  }

  #node(node: unknown): Size {
    if (node === null || node === undefined) return EMPTY;
    if (isAlias(node)) return this.#alias(node);
    const n = node as Node;
    const anchor = (n as { anchor?: string }).anchor;
    if (anchor) {
      this.#anchors.set(anchor, n);
      this.#open.add(n);
    }
    let size: Size = { nodes: 1, extra: 0, height: 0 };
    if (isMap(n) || isSeq(n)) {
      const keys = isMap(n) ? new Set<string>() : null;
      let nodes = 1;
      let extra = 0;
      let height = 0;
      const add = (s: Size) => {
        nodes += s.nodes;
        extra += s.extra;
        if (s.height > height) height = s.height;
      };
      for (const item of n.items as unknown[]) {
        if (isPair(item)) {
          if (keys !== null) this.#key(item.key, keys);
          add(this.#node(item.key));
          add(this.#node(item.value));
        } else {
          add(this.#node(item));
        }
      }
      size = { nodes, extra, height: height + 1 };
    } else if (!isScalar(n)) {
      this.#fail(n, 'unexpected YAML node');
    }
    if (anchor) {
      this.#open.delete(n);
      const range = n.range;
      this.#sizes.set(n, { ...size, written: range ? range[1] - range[0] : 0 });
    }
    return size;
  }

  #alias(node: Node & { source: string }): Size {
    if (++this.#aliases > CONFIG_BOUNDS.aliases) {
      this.#fail(node, `more than ${CONFIG_BOUNDS.aliases} aliases (*name), over the limit`);
    }
    const target = this.#anchors.get(node.source);
    if (target === undefined) this.#fail(node, `unresolved alias *${node.source} (the anchor must be set before the alias)`);
    if (this.#open.has(target)) this.#fail(node, `alias *${node.source} is inside the node it names`);
    const s = this.#sizes.get(target)!;
    const own = node.range ? node.range[1] - node.range[0] : 0;
    return { nodes: s.nodes, extra: s.extra + s.written - own, height: s.height };
  }

  /** A mapping key must be a plain value (it becomes a property name) and must not repeat. */
  #key(key: unknown, seen: Set<string>): void {
    let value: unknown = null;
    if (key !== null) {
      if (!isScalar(key)) this.#fail(key as Node, 'a mapping key must be a plain value, not a mapping, a list or an alias');
      value = key.value;
    }
    // As yaml turns a key into a property name: null is "", anything else its string.
    const name = value === null ? '' : String(value);
    if (seen.has(name)) this.#fail(key as Node | null, 'Map keys must be unique');
    seen.add(name);
  }
}
