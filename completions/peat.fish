complete --keep-order --exclusive --command peat --arguments "(PEAT_COMPLETE=fish peat -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
