// The form library's buttons (add, remove, move, copy, clear) with visible text and accessible names: its
// own draw a Bootstrap glyph icon, and the editor loads no icon font, so they showed as empty boxes.

import type { IconButtonProps } from "@rjsf/utils";

/** "wk-send_email_tags_2__remove" -> "item 3": the item a button acts on, from the library's button id. */
export function itemOf(id: string | undefined): string {
  const found = /_(\d+)__[A-Za-z]+$/.exec(id ?? "");
  return found ? `item ${Number(found[1]) + 1}` : "item";
}

type Props = IconButtonProps;

function TextButton({ id, className, onClick, disabled, label, icon, text, danger }: {
  id?: string;
  className?: string;
  onClick?: IconButtonProps["onClick"];
  disabled?: boolean;
  label: string;
  icon?: string;
  text: string;
  danger?: boolean;
}) {
  return (
    <button
      type="button"
      id={id}
      className={`wk-button wk-form-button${danger ? " danger" : ""} ${className ?? ""}`.trim()}
      onClick={onClick}
      disabled={disabled}
      aria-label={label === text ? undefined : label}
      title={label}
    >
      {icon && <span aria-hidden="true">{icon} </span>}
      {text}
    </button>
  );
}

function AddButton({ id, className, onClick, disabled }: Props) {
  // the same button adds an array item and (class rjsf-object-property-expand) an object's property
  const property = (className ?? "").includes("object-property");
  const text = property ? "Add property" : "Add item";
  return <TextButton id={id} className={className} onClick={onClick} disabled={disabled} label={text} icon="+" text={text} />;
}

function RemoveButton({ id, className, onClick, disabled }: Props) {
  return <TextButton id={id} className={className} onClick={onClick} disabled={disabled} label={`Remove ${itemOf(id)}`} text="Remove" danger />;
}

function MoveUpButton({ id, className, onClick, disabled }: Props) {
  return <TextButton id={id} className={className} onClick={onClick} disabled={disabled} label={`Move ${itemOf(id)} up`} text="↑" />;
}

function MoveDownButton({ id, className, onClick, disabled }: Props) {
  return <TextButton id={id} className={className} onClick={onClick} disabled={disabled} label={`Move ${itemOf(id)} down`} text="↓" />;
}

function CopyButton({ id, className, onClick, disabled }: Props) {
  return <TextButton id={id} className={className} onClick={onClick} disabled={disabled} label={`Copy ${itemOf(id)}`} text="Copy" />;
}

function ClearButton({ id, className, onClick, disabled }: Props) {
  return <TextButton id={id} className={className} onClick={onClick} disabled={disabled} label="Clear" text="Clear" />;
}

export const BUTTON_TEMPLATES = { AddButton, RemoveButton, MoveUpButton, MoveDownButton, CopyButton, ClearButton };
