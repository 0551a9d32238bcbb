// Tokens of the CEL subset the condition builder writes, and a cursor to read them. Anything outside
// the subset (raw or triple-quoted strings, bytes, hex or unsigned numbers, other operators) is a
// `SubsetError`: the builder cannot show that text, so the editor keeps it as an expression.

export class SubsetError extends Error {}

export type TokenKind = "ident" | "string" | "number" | "punct";

export interface Token {
  kind: TokenKind;
  /** The source text of the token (for a string, with its quotes and escapes). */
  text: string;
  /** A string's decoded value. */
  str?: string;
  /** A number's value. */
  num?: number;
}

const PUNCT = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", ".", ",", "(", ")", "[", "]", "{", "}", ":", "-"];
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const NUMBER = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/;
const SIMPLE_ESCAPES: Record<string, string> = { "\\": "\\", '"': '"', "'": "'", n: "\n", r: "\r", t: "\t" };

/** Read a quoted string starting at `start` (the quote): its end and decoded value. Single quotes are
 * read (a field's path may be spelled `state['my-step']`), but the builder writes only double quotes. */
function readString(text: string, start: number): { end: number; value: string } {
  let value = "";
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i];
    if (ch === text[start]) return { end: i + 1, value };
    if (ch === "\n" || ch === "\r") break;
    if (ch !== "\\") {
      value += ch;
      i += 1;
      continue;
    }
    const esc = text[i + 1];
    if (esc !== undefined && esc in SIMPLE_ESCAPES) {
      value += SIMPLE_ESCAPES[esc];
      i += 2;
    } else if (esc === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      throw new SubsetError(`unsupported escape at ${i}`);
    }
  }
  throw new SubsetError(`unterminated string at ${start}`);
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i += 1;
    } else if (IDENT_START.test(ch)) {
      let end = i + 1;
      while (end < text.length && IDENT_PART.test(text[end])) end += 1;
      tokens.push({ kind: "ident", text: text.slice(i, end) });
      i = end;
    } else if (DIGIT.test(ch)) {
      const match = NUMBER.exec(text.slice(i));
      const raw = match ? match[0] : ch;
      if (i + raw.length < text.length && /[A-Za-z_.]/.test(text[i + raw.length])) {
        throw new SubsetError(`unsupported number at ${i}`);
      }
      tokens.push({ kind: "number", text: raw, num: Number(raw) });
      i += raw.length;
    } else if (ch === '"' || ch === "'") {
      const { end, value } = readString(text, i);
      tokens.push({ kind: "string", text: text.slice(i, end), str: value });
      i = end;
    } else {
      const punct = PUNCT.find((p) => text.startsWith(p, i));
      if (!punct) throw new SubsetError(`unexpected ${JSON.stringify(ch)} at ${i}`);
      tokens.push({ kind: "punct", text: punct });
      i += punct.length;
    }
  }
  return tokens;
}

/** Reads tokens in order; every `expect`/`next` past what is there throws a `SubsetError`. */
export class Cursor {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  static of(text: string): Cursor {
    return new Cursor(tokenize(text));
  }

  peek(offset = 0): Token | undefined {
    return this.tokens[this.index + offset];
  }

  done(): boolean {
    return this.index >= this.tokens.length;
  }

  next(): Token {
    const token = this.tokens[this.index];
    if (!token) throw new SubsetError("unexpected end");
    this.index += 1;
    return token;
  }

  /** Whether the token at `offset` is punctuation or an identifier spelled `text`. */
  is(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token !== undefined && (token.kind === "punct" || token.kind === "ident") && token.text === text;
  }

  /** Whether the next tokens are the identifier `name` and "(" (a call of `name`). */
  isCall(name: string, offset = 0): boolean {
    return this.peek(offset)?.kind === "ident" && this.is(name, offset) && this.is("(", offset + 1);
  }

  eat(text: string): boolean {
    if (!this.is(text)) return false;
    this.index += 1;
    return true;
  }

  expect(text: string): void {
    if (!this.eat(text)) throw new SubsetError(`expected ${text}`);
  }
}
