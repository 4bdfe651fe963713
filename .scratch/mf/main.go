package main

import (
	"fmt"

	"github.com/shopaffinity/affinity"
)

func main() {
	for _, d := range []int{0, 1, 2, 3, 4} {
		for _, m := range []affinity.Money{affinity.MaxMoney, affinity.MinMoney, affinity.MaxMoney - 1} {
			s := m.Format(d)
			_, err := affinity.ParseMoney(s, '.')
			fmt.Println(d, m, s, err)
		}
	}
}
