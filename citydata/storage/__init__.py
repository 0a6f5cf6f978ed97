"""The lake's storage: the S3 client wrapper (`lake.Lake`), its key layout by zone (`layout`) and
the published zone's pointers, manifests and version tables (`published`). Every stage reads and
writes the lake through these; the lake stage itself (promotion of versions) is the `lake`
package."""
