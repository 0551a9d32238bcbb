// One part of the editor that fails to draw (a form field no widget fits, a node with odd data) shows
// what failed and lets the rest keep working: the draft lives in the editor's reducer, outside every
// boundary, so nothing unsaved is lost.

import { Component, type ErrorInfo, type ReactNode } from "react";

interface Props {
  /** What this part is, for the message: "this step's settings", "this step". */
  what: string;
  children: ReactNode;
  /** Drawn instead of the default message (e.g. a compact one inside a node). */
  fallback?: (error: Error, retry: () => void) => ReactNode;
  /** A value that, when it changes, clears the error and tries again (e.g. the selected step). */
  resetKey?: unknown;
}

interface State {
  error: Error | null;
  key: unknown;
}

export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null, key: this.props.resetKey };

  static getDerivedStateFromError(error: Error): Partial<State> {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    return props.resetKey !== state.key ? { error: null, key: props.resetKey } : null;
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    // kept for whoever debugs it; the user sees the message below
    console.warn(`workflow-kit: ${this.props.what} failed to draw`, error, info.componentStack);
  }

  private retry = () => this.setState({ error: null });

  render(): ReactNode {
    const { error } = this.state;
    if (!error) return this.props.children;
    if (this.props.fallback) return this.props.fallback(error, this.retry);
    return (
      <div className="wk-boundary" role="alert">
        <strong>Something went wrong showing {this.props.what}.</strong>
        <div className="wk-help">The rest of the editor works, and your changes are kept. ({error.message})</div>
        <button type="button" className="wk-button" onClick={this.retry}>Try again</button>
      </div>
    );
  }
}
