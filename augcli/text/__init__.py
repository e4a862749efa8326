"""The text modality: plain-text files line by line, and the text columns of CSV, TSV and JSONL.

Owns reading and writing text files and tables (io), the pure token kernels (functional), the
word lists and thesauri (lexicon, stopwords, inflect, warm), the safe vocabulary (safety), real
text's noise (noise), the registered transforms (transforms), the model-backed ones (contextual,
translate: local models only) and the section that renders a copy (modality). Imports core
only; never another modality, storage, the build engine or a face.
"""
