import type { WidgetProps } from "@rjsf/utils";
import { CONDITION_VARIABLES, conditionFields } from "../../dataFields";
import { LOOP_ROOTS } from "../../names";
import { ConditionBuilder } from "../ConditionBuilder";
import type { FormContext } from "../ActionPanel";

/** A CEL input (an If's condition, a wait's match) as the condition builder, over the data this step
 * can read (the variables the input declares: `event` and `state` by default). */
export function ConditionWidget({ id, value, onChange, schema, label, rawErrors, registry }: WidgetProps) {
  const context = registry.formContext as FormContext;
  const declared = schema["x-cel-variables"];
  // inside a loop, a condition also reads the loop's item and number (or round and previous result)
  const variables = [...(Array.isArray(declared) ? (declared as string[]) : CONDITION_VARIABLES), ...LOOP_ROOTS];
  return (
    <ConditionBuilder
      id={id}
      label={label || "Condition"}
      value={typeof value === "string" ? value : ""}
      fields={conditionFields(context.groups, variables)}
      problems={rawErrors ?? []}
      onChange={(cel) => onChange(cel || undefined)}
    />
  );
}
