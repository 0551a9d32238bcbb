import type { WidgetProps } from "@rjsf/utils";
import DatePicker from "react-datepicker";

/** A time (ISO 8601, or epoch milliseconds where the input takes a number too), picked in the user's
 * time zone with react-datepicker and stored as an ISO string in UTC ("2026-01-31T08:00:00.000Z"). */
export function dateOf(value: unknown): Date | null {
  if (typeof value === "number") return new Date(value);
  if (typeof value !== "string" || !value.trim()) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function DateTimeWidget({ id, value, onChange, required, disabled, readonly, label }: WidgetProps) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <div className="wk-datetime">
      <DatePicker
        id={id}
        selected={dateOf(value)}
        onChange={(date: Date | null) => onChange(date ? date.toISOString() : undefined)}
        showTimeSelect
        timeIntervals={15}
        timeFormat="HH:mm"
        timeCaption="Time"
        dateFormat="yyyy-MM-dd HH:mm"
        placeholderText="Choose a date and time"
        required={required}
        disabled={disabled || readonly}
        ariaLabelledBy={undefined}
        title={label}
        className="wk-input"
        popperPlacement="bottom-start"
      />
      <div className="wk-help">In your time zone ({zone}).</div>
    </div>
  );
}
