from publicist.cli import main

main()
