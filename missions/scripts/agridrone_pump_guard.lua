-- agridrone pump guard (ArduPilot Lua applet, SCR_ENABLE=1; file in the vehicle's scripts/).
-- ArduPilot's sprayer (AC_Sprayer) ignores the flight mode: after a battery failsafe RTL or a
-- fence breach it keeps spraying whenever the ground speed is above SPRAY_SPEED_MIN. This
-- applet switches the sprayer off (auxiliary function 15 "Sprayer", low) every 100 ms while
-- the vehicle is armed outside AUTO or a battery failsafe is active, and says so once.
local MODE_AUTO = 3
local AUX_SPRAYER = 15
local SWITCH_LOW = 0
local PERIOD_MS = 100
local announced = false

local function update()
  local stop = vehicle:get_mode() ~= MODE_AUTO or battery:has_failsafed()
  if stop and arming:is_armed() then
    rc:run_aux_function(AUX_SPRAYER, SWITCH_LOW)
    if not announced then
      gcs:send_text(4, "agridrone: pump off (not in AUTO or battery failsafe)")
      announced = true
    end
  elseif not stop then
    announced = false
  end
  return update, PERIOD_MS
end

gcs:send_text(6, "agridrone pump guard running")
return update, PERIOD_MS
