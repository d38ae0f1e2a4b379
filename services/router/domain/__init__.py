"""The router's pure core: the responsibility list (权责清单) and the text classifier.

Nothing here performs I/O except reading the list files in `load_responsibility_list`.
"""
