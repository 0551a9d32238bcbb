"""The editor API (Litestar) for the browser editor. Not built yet: it arrives with its own issue."""
