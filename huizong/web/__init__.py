"""The web page: a town clerk uploads and sees the check in seconds; the office runs its quarter in
a browser. FastAPI with pages rendered on the server (Jinja2, autoescaped), no script, nothing
fetched; an interface over the same library as the command line."""
