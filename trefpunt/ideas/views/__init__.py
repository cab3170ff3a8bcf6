"""Idea-call pages: thin views over the services and selectors (``calls``, ``ideas``,
``staff``). Every action is a plain POST that works without JavaScript and redirects back;
voting and comments sent by htmx get the re-rendered fragment instead."""
