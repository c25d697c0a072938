"""The cqlpy shell: a cqlsh for the embedded database and for any CQL server (uses only the public cqlpy API).

Modules, by concept:

    main.py          the program: options -> connect -> -e / -f / stdin / REPL; exit statuses
    options.py       command line and cqlshrc
    runner.py        Shell: runs statements (special or CQL), prints Outputs, reports errors, scripts
    script.py        cutting input into statements (CQL ends at ';', special commands at the newline)
    special.py       the special-command registry (one decorator: dispatch, HELP, completion)
    commands.py      the special commands; copy.py COPY; help.py HELP (offline, from the grammar)
    output.py        Output, Column, RenderOptions: the one shape every command answers with
    render.py        pure rendering: cqlsh's table, EXPAND, csv, json, rich tables in a terminal
    values.py        cell values as display text, exact CSV text (and back), JSON
    csv_read.py      COPY FROM's field readers, compiled once per column type
    completion.py    pure completion: complete(text, cursor, catalog) -> [Suggestion]
    grammar_facts.py LALR tables of grammar/cql.lark: acceptable next tokens, the rule wanting a name
    catalog.py       the schema snapshot (read with SELECTs on system_schema)
    highlight.py     highlighting from the grammar's terminals; the REPL's lexer
    repl.py          prompt_toolkit: prompt, multi-line entry, history, toolbar, key bindings
"""
