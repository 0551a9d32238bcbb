import "./ui/styles.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { apiBaseOf } from "./pageBase";

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <App apiBase={apiBaseOf(document.baseURI)} />
  </StrictMode>,
);
