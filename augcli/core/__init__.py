"""The recipe core: what a recipe says and how a transform is declared, sampled and applied.

Owns recipe loading and validation (recipe, params, yamlsource, suggest, errors), the Transform
base class, its registry and the compositions (transforms), the Modality protocol and the lazy
registry of modalities (modality, modalities), seeding, glob matching, class balancing, the
bounded readers of what a user hands augcli (files, textfile), and the bounded memo a call's hot
path keeps its worked-out values in (memo). Imports nothing else of augcli:
the modality packages, the build engine and the faces stand on it.
"""
