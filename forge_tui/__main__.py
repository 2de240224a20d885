from forge_tui.cli import main

main()
