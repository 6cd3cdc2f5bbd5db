"""Clock and periods, settings, vocabulary, files, terminal text, one cell's filling rules: what every room uses."""
