complete --keep-order --exclusive --command peat --arguments "(COMPLETE=fish peat -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
