from masterplan.cli import main

main()
