"""Reports: read an article, set aside what is not the story, link the parties it names
to the lists, and keep who claims what, per whom."""
