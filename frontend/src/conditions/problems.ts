// The server's messages about a CEL value: where a syntax error is, and the message without the
// expression (for the builder, which never shows CEL).

export interface ErrorPosition {
  line: number;
  column: number;
}

const POSITION = /\bline (\d+), column (\d+)\b/;

/** The 1-based line and column of "… at line 1, column 32 in expression …", else null. */
export function errorPosition(message: string): ErrorPosition | null {
  const match = POSITION.exec(message);
  if (!match) return null;
  const line = Number(match[1]);
  const column = Number(match[2]);
  return line >= 1 && column >= 1 ? { line, column } : null;
}

/** "syntax error at line 1, column 3 in expression 'a b'" -> "syntax error". */
export function withoutExpression(message: string): string {
  return message
    .replace(/ in expression (['"])[\s\S]*$/, "")
    .replace(/ at line \d+, column \d+/, "")
    .trim();
}
