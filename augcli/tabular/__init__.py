"""The tabular modality: one output table per input table (original rows, augmented copies of
every row, then resampled synthetic rows).

Owns reading and writing tables (io, csvwrite), column roles (schema), the pure kernels on a
table's features (functional), the registered row-level transforms (transforms), oversampling
with imbalanced-learn (resample), the whole-table and streamed paths (table, stream) and the
section (modality). Imports core only; never another modality, storage, the build engine or a
face. pandas is imported only when a table is processed.
"""
