from mockserver.run.cli import main

main()
