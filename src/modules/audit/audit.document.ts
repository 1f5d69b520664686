/**
 * What a request that never executed tried to write, read from its document: the mutation's
 * root field names (through fragments and spreads), or "unparsed" when the text does not parse
 * but is plainly a mutation. Queries give null: only write attempts go to the trail.
 */
import {
  Kind,
  Lexer,
  OperationTypeNode,
  parse,
  Source,
  TokenKind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
} from "graphql";

export const UNPARSED = "unparsed";

/** The root field names a mutation operation selects, in document order, each once. */
function rootFieldNames(operation: OperationDefinitionNode, document: DocumentNode): string[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const names = new Set<string>();
  const visited = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) names.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!visited.has(s.name.value)) {
        visited.add(s.name.value); // a fragment that spreads itself is refused by validation, not looped over here
        const fragment = fragments.get(s.name.value);
        if (fragment) walk(fragment.selectionSet);
      }
    }
  };
  walk(operation.selectionSet);
  names.delete("__typename");
  return [...names];
}

/**
 * The operation name the trail gives a mutation request of this document ("a,b" for two root
 * fields), or null if the request is not a mutation. With several operations and no usable
 * `operationName`, any mutation among them makes it one.
 */
export function mutationOf(document: DocumentNode, operationName?: string | null): string | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const named = operations.filter((o) => operationName != null && o.name?.value === operationName);
  const mutations = (named.length ? named : operations).filter((o) => o.operation === OperationTypeNode.MUTATION);
  if (mutations.length === 0) return null;
  const names = [...new Set(mutations.flatMap((o) => rootFieldNames(o, document)))];
  return names.length ? names.join(",") : UNPARSED;
}

/** Tokens looked at in a text that does not parse; the parser gave up long before. */
const MAX_SCANNED_TOKENS = 10_000;

/**
 * Whether a text that does not parse reads as a mutation: the word `mutation` outside any
 * braces, parentheses or brackets, where only an operation's keyword (or a name) can be.
 */
export function looksLikeMutation(text: string): boolean {
  const lexer = new Lexer(new Source(text));
  let depth = 0;
  try {
    for (let n = 0, t = lexer.advance(); t.kind !== TokenKind.EOF && n < MAX_SCANNED_TOKENS; n++, t = lexer.advance()) {
      if (t.kind === TokenKind.BRACE_L || t.kind === TokenKind.PAREN_L || t.kind === TokenKind.BRACKET_L) depth += 1;
      else if (t.kind === TokenKind.BRACE_R || t.kind === TokenKind.PAREN_R || t.kind === TokenKind.BRACKET_R) depth -= 1;
      else if (depth === 0 && t.kind === TokenKind.NAME && t.value === "mutation") return true;
    }
  } catch {
    // A character the lexer refuses ends the scan: what came before has been looked at.
  }
  return false;
}

/** The trail's operation name for a request body's document, or null when it is not a mutation. */
export function attemptedMutation(query: unknown, operationName: unknown, parseOptions: ParseOptions): string | null {
  if (typeof query !== "string") return null;
  let document: DocumentNode;
  try {
    document = parse(query, parseOptions);
  } catch {
    return looksLikeMutation(query) ? UNPARSED : null;
  }
  return mutationOf(document, typeof operationName === "string" ? operationName : null);
}
