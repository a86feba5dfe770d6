package amconfig

// DrillLabel marks the synthetic alerts of `rulegen drill`: the rollback
// path's dry run. A deploy tool reading the rollback webhook must ignore
// alerts with drill="true".
const DrillLabel = "drill"

// notDrill keeps drill alerts out of inhibit rules' sources.
var notDrill = DrillLabel + `!="true"`

// addDrill puts the drill's route first: a drill alert reaches the
// rollback receiver, as a real one does, and stops there (no continue),
// so that the routes after the fragment never page anyone for a drill.
func addDrill(c *config) {
	rollback := c.Route.Routes[0]
	drill := rollback
	drill.Matchers = append([]string{eq(DrillLabel, "true")}, rollback.Matchers...)
	drill.Continue = false
	c.Route.Routes = append([]route{drill}, c.Route.Routes...)
}
