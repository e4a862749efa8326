"""Where bytes go and what comes back: OUTPUT's tree, remote mirrors, and the checks on
everything read back from OUTPUT.

Owns tree (OutputTree writes only inside OUTPUT's real folder, never through a link,
atomically), remote (fsspec mirrors of s3://, gs://, ... folders), untrusted (the paths and
shapes of what augcli reads back) and json_stream (a large JSON document read back a piece at a
time). Imports core only.
"""
