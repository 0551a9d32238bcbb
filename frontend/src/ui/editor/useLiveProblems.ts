// Live validation: a moment after each change, the server's problems for the whole document (the
// workflow's inputs and connections, the trigger's filter or schedule, the settings), the same ones
// saving and publishing report. Until the first answer, the saved record's problems stand.

import { useEffect, useRef, useState } from "react";
import type { Api } from "../../api";
import type { WorkflowDocument } from "../../document";
import type { Problem } from "../../types";

export const VALIDATE_DELAY_MS = 300;

export interface LiveProblems {
  problems: Problem[];
  /** The newest change is not checked yet (its problems are the previous document's). */
  checking: boolean;
}

export function useLiveProblems(api: Api, document: WorkflowDocument | null, initial: Problem[]): LiveProblems {
  const [found, setFound] = useState<{ for: WorkflowDocument; problems: Problem[] } | null>(null);
  const ticket = useRef(0);
  useEffect(() => {
    if (!document) return;
    const mine = ++ticket.current;
    const timer = setTimeout(() => {
      api.validate(document.workflow, document.triggers, document.settings).then(
        (problems) => {
          if (mine === ticket.current) setFound({ for: document, problems });
        },
        () => undefined, // offline for a moment: the last answer stands, saving reports the rest
      );
    }, VALIDATE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [api, document]);
  return { problems: found?.problems ?? initial, checking: !!document && found?.for !== document };
}
