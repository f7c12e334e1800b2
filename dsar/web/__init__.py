"""`dsar serve`: the page for people who will not open a terminal.

server.py binds 127.0.0.1 and runs uvicorn; guard.py keeps the page to the person who
started it (token, Host, CSRF, upload limit); pages.py reads forms and calls dsar.app,
as the command line does; the page's words are gettext strings in templates/ (dsar's
catalogue), words.py names states, choices and fields and words the library's errors.
"""
