// compose-config validates a Compose file the way `docker compose config` does, for machines
// without the Compose v2 plugin: it loads the file with compose-go (the loader and JSON schema
// that Docker Compose itself uses), resolves interpolation, extends and defaults, checks the
// model (service references, depends_on, volumes, networks) and prints the normalised project.
//
//	go -C docker/compose-config run . ../docker-compose.yml    # from the repository root
//	scripts/check-compose.sh                                    # the same, or `docker compose config`
//
// Exit status 0: valid; 1: invalid (the error is printed).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-config COMPOSE_FILE...")
		os.Exit(2)
	}
	opts, err := cli.NewProjectOptions(os.Args[1:],
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithName(""),
	)
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalYAML()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "invalid:", err)
	os.Exit(1)
}
