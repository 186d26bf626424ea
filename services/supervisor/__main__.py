from services.supervisor.cli import main

main()
