import { useLayoutEffect, useMemo } from "react";
import { Api, type TokenOptions } from "../api";

/** An Api for <WorkflowEditor api={...}> that stays the same while `token` changes, so the editor keeps
 * what the user is editing: pass each new token your backend mints, or a tokenProvider that fetches one
 * when the API refuses the current token (the request is retried once with it). A new `base` is a new
 * Api (and a new editor). */
export function useEditorApi(base: string, token: string, options: TokenOptions = {}): Api {
  // the first token only: later ones go to setToken below, keeping the same Api
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const api = useMemo(() => new Api(base, token), [base]);
  const { tokenProvider, onTokenExpired } = options;
  // layout effects run before the editor's effects send requests
  useLayoutEffect(() => {
    api.setToken(token);
  }, [api, token]);
  useLayoutEffect(() => {
    api.setTokenOptions({ tokenProvider, onTokenExpired });
  }, [api, tokenProvider, onTokenExpired]);
  return api;
}
