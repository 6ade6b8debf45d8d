"""The documentation site: the scenario reference written from the schema (:mod:`.schema_page`) and the build
command, ``python -m physconv.docs`` (:mod:`.build`)."""
