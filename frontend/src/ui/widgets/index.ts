// The form library's extra widgets and fields (see forms.ts `widgetFor` for which input gets which).
import { ConditionWidget } from "./ConditionWidget";
import { ConnectionWidget } from "./ConnectionWidget";
import { DateTimeWidget } from "./DateTimeWidget";
import { JsonField } from "./JsonField";
import { UnionWidget } from "./UnionWidget";
import { WorkflowWidget } from "./WorkflowWidget";

export const FORM_WIDGETS = {
  condition: ConditionWidget,
  connection: ConnectionWidget,
  datetime: DateTimeWidget,
  union: UnionWidget,
  workflow: WorkflowWidget,
};
export const FORM_FIELDS = { json: JsonField };
