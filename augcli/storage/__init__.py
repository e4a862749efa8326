"""Where bytes go and what comes back: OUTPUT's tree, remote mirrors, and the checks on
everything read back from OUTPUT.

Owns tree (OutputTree writes only inside OUTPUT's real folder, never through a link,
atomically), remote (fsspec mirrors of s3://, gs://, ... folders) and untrusted (the paths and
shapes of what augcli reads back). Imports core only.
"""
