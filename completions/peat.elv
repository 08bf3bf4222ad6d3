
set edit:completion:arg-completer[peat] = { |@words|
    var index = (count $words)
    set index = (- $index 1)

    put (env _CLAP_IFS="\n" _CLAP_COMPLETE_INDEX=(to-string $index) PEAT_COMPLETE="elvish" peat -- $@words) | to-lines
}

