package pprocd

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// AddressEnv names the environment variable that gives the server's address
// when Dial is given none.
const AddressEnv = "PPROCD_ADDRESS"

// DefaultAddress is where the server listens by default (scripts/run serves
// there): a UNIX socket relative to the working directory.
const DefaultAddress = "unix:run/pprocd.sock"

var passThroughSchemes = []string{"unix-abstract:", "dns:", "ipv4:", "ipv6:"}

// ResolveAddress returns the gRPC target for address: the argument, else
// $PPROCD_ADDRESS, else DefaultAddress. Accepted forms, as by the Python and
// C++ clients: unix:PATH (relative or absolute), unix:///ABS, a bare socket
// path (containing "/" or ending in ".sock"), tcp:HOST:PORT and HOST:PORT.
func ResolveAddress(address string) (string, error) {
	if address != "" {
		return normalizeAddress(address)
	}
	if fromEnv := os.Getenv(AddressEnv); fromEnv != "" {
		target, err := normalizeAddress(fromEnv)
		if err != nil {
			return "", fmt.Errorf("$%s: %w", AddressEnv, err)
		}
		return target, nil
	}
	return normalizeAddress(DefaultAddress)
}

func badAddress(address, why string) error {
	return fmt.Errorf("pprocd: invalid address %q: %s (use unix:PATH, a socket path, tcp:HOST:PORT or HOST:PORT)", address, why)
}

func normalizeAddress(address string) (string, error) {
	text := strings.TrimSpace(address)
	if text == "" {
		return "", badAddress(address, "it is empty")
	}
	if path, ok := strings.CutPrefix(text, "unix:"); ok {
		if path == "" {
			return "", badAddress(address, "the socket path is empty")
		}
		// gRPC reads unix://X as an authority, so only unix:/// is meaningful.
		if strings.HasPrefix(path, "//") && !strings.HasPrefix(path, "///") {
			return "", badAddress(address, "unix:// needs an absolute path: unix:///P")
		}
		return text, nil
	}
	for _, scheme := range passThroughSchemes {
		if strings.HasPrefix(text, scheme) {
			if len(text) == len(scheme) {
				return "", badAddress(address, "nothing follows the scheme")
			}
			return text, nil
		}
	}
	if hostPort, ok := strings.CutPrefix(text, "tcp:"); ok {
		if err := checkHostPort(address, hostPort); err != nil {
			return "", err
		}
		return hostPort, nil
	}
	if strings.Contains(text, "/") || strings.HasSuffix(text, ".sock") {
		return "unix:" + text, nil
	}
	if err := checkHostPort(address, text); err != nil {
		return "", err
	}
	return text, nil
}

func checkHostPort(original, hostPort string) error {
	colon := strings.LastIndex(hostPort, ":")
	if colon < 0 {
		return badAddress(original, "expected HOST:PORT")
	}
	host, port := hostPort[:colon], hostPort[colon+1:]
	if host == "" {
		return badAddress(original, "the host is empty")
	}
	number, err := strconv.Atoi(port)
	if err != nil || number <= 0 || number > 65535 || strings.TrimLeft(port, "0123456789") != "" {
		return badAddress(original, fmt.Sprintf("%q is not a port", port))
	}
	return nil
}

// listenHint says how to start a server that serves target.
func listenHint(target string) string {
	listen := ""
	if path, ok := strings.CutPrefix(target, "unix:"); ok {
		if strings.HasPrefix(path, "///") {
			path = path[2:]
		}
		listen = "unix:" + path
	} else {
		for _, scheme := range passThroughSchemes {
			if strings.HasPrefix(target, scheme) {
				return "start it with scripts/run"
			}
		}
		listen = "tcp:" + target
	}
	if listen == DefaultAddress {
		return fmt.Sprintf("start it with scripts/run (or pprocd --listen %s)", listen)
	}
	return fmt.Sprintf("start it with scripts/run --listen %s (or pprocd --listen %s)", listen, listen)
}
