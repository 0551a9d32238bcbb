import { describe, expect, it } from "vitest";
import { errorPosition, withoutExpression } from "./problems";

describe("errorPosition", () => {
  it.each([
    ['syntax error at line 1, column 32 in expression "event.data.title == \\"a\\" &&"', { line: 1, column: 32 }],
    ["syntax error at line 2, column 4 in expression 'x ==\\n y y'", { line: 2, column: 4 }],
    ["if: syntax error at line 12, column 1 in expression '…'", { line: 12, column: 1 }],
  ])("reads %s", (message, position) => {
    expect(errorPosition(message)).toEqual(position);
  });

  it.each([
    "unknown variable 'foo' (available: event, state) in expression 'foo == 1'",
    "the expression is empty in expression ''",
    "at line 0, column 3",
    "",
  ])("has none in %j", (message) => {
    expect(errorPosition(message)).toBeNull();
  });
});

describe("withoutExpression", () => {
  it.each([
    ["syntax error at line 1, column 3 in expression 'a b'", "syntax error"],
    ["unknown variable 'state' (available: async, event) in expression 'state.x == 1'", "unknown variable 'state' (available: async, event)"],
    ['no such member in mapping: \'x\' in expression "event.data.x == 1\\n"', "no such member in mapping: 'x'"],
    ["Something else", "Something else"],
  ])("%s", (message, plain) => {
    expect(withoutExpression(message)).toBe(plain);
  });
});
