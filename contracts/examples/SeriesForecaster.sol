// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IInferenceJobs} from "../interfaces/IInferenceJobs.sol";
import {IInferenceCallback} from "../interfaces/IInferenceCallback.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @title SeriesForecaster (example consumer)
/// @notice Keeps a short on-chain series (e.g. daily readings a reporter records), asks a public-input regression
/// model for a forecast on exactly that series, and acts on the verified value in its callback: it raises `alert`
/// when the forecast reaches `alertAt`. It pins the model version it was deployed for (its input layout and verifier):
/// if the model's owner publishes another version, requests fail with `ModelVersionMismatch` until a forecaster is
/// deployed for the new version, so nobody can switch the model under it. Results can arrive in any order (provers
/// race); it keeps the forecast of the latest request, never an older one that arrived late. Walkthrough:
/// docs/consumers.md.
/// @dev The series is stored quantized, in the model's input units (`value * 2^inputFrac`, see the model card); the
/// forecast comes back as `value / 2^frac` in the model's output units (`InferenceJobs.valuesOf`).
contract SeriesForecaster is IInferenceCallback {
    /// @notice Thrown when the caller is not the reporter.
    /// @param caller The caller.
    error NotReporter(address caller);
    /// @notice Thrown when the callback does not come from the jobs contract.
    /// @param caller The caller.
    error NotJobs(address caller);
    /// @notice Thrown when the model's current version is not a public-input, one-value regression model.
    /// @param modelId The model.
    error UnsuitableModel(uint256 modelId);
    /// @notice Thrown when a recorded value is outside the model's signed input range.
    /// @param value The value.
    /// @param bits The model's input width.
    error ValueOutOfRange(int256 value, uint256 bits);
    /// @notice Thrown when a forecast is asked for before the series is full.
    /// @param have Values recorded.
    /// @param need The model's input count.
    error SeriesTooShort(uint256 have, uint256 need);
    /// @notice Thrown when a result arrives for a job this contract is not waiting for.
    /// @param jobId The job.
    error UnknownJob(uint256 jobId);

    /// @notice Emitted when a value is recorded.
    /// @param value The quantized value.
    event Recorded(int256 value);
    /// @notice Emitted when a forecast job is opened on the current series.
    /// @param jobId The job.
    event ForecastRequested(uint256 indexed jobId);
    /// @notice Emitted when a verified forecast arrives after the forecast of a later request: it is not acted on.
    /// @param jobId The job.
    /// @param value The forecast.
    /// @param latestJob The job of the forecast kept.
    event StaleForecast(uint256 indexed jobId, int256 value, uint256 latestJob);
    /// @notice Emitted when a verified forecast arrives.
    /// @param jobId The job.
    /// @param value The forecast, `value / 2^frac` in the model's output units.
    /// @param frac Its fractional bits.
    /// @param alert Whether it reached `alertAt`.
    event Forecast(uint256 indexed jobId, int256 value, uint8 frac, bool alert);

    IInferenceJobs public immutable jobs;
    uint256 public immutable modelId;
    /// @notice The model version every request names (checked against the layout at deployment).
    uint256 public immutable modelVersion;
    address public immutable reporter;
    /// @notice The forecast (in the output's fixed-point units) at or above which `alert` is raised.
    int256 public immutable alertAt;
    uint256 private immutable _window;
    uint256 private immutable _inputBits;

    int256[] private _ring;
    uint256 private _recorded;
    mapping(uint256 jobId => bool) private _pending;

    /// @notice The last verified forecast and whether it raised the alert.
    int256 public lastForecast;
    uint256 public lastForecastJob;
    bool public alert;

    /// @param jobs_ The market.
    /// @param modelId_ A model whose version `modelVersion_` has a public input mode and a values head with one output.
    /// @param modelVersion_ The version the deployer audited (its verifier and layout; docs/consumers.md).
    /// @param reporter_ Who records the series.
    /// @param alertAt_ The alert threshold, in the output's fixed-point units.
    constructor(IInferenceJobs jobs_, uint256 modelId_, uint256 modelVersion_, address reporter_, int256 alertAt_) {
        IModelRegistry registry = IModelRegistry(jobs_.registry());
        IModelRegistry.Layout memory layout = registry.layoutOf(modelId_, modelVersion_);
        if (layout.inputMode != 1 || layout.outputHead != 1 || layout.outputCount != 1)
            revert UnsuitableModel(modelId_);
        jobs = jobs_;
        modelId = modelId_;
        modelVersion = modelVersion_;
        reporter = reporter_;
        alertAt = alertAt_;
        _window = layout.inputCount;
        _inputBits = layout.inputBits;
    }

    /// @notice Records the next value of the series (reporter only); the model sees the last `window()` values.
    /// @param value The quantized value, in the model's signed input range.
    function record(int256 value) external {
        if (msg.sender != reporter) revert NotReporter(msg.sender);
        int256 half = int256(1 << (_inputBits - 1));
        if (value < -half || value >= half) revert ValueOutOfRange(value, _inputBits);
        if (_ring.length < _window) _ring.push(value);
        else _ring[_recorded % _window] = value;
        ++_recorded;
        emit Recorded(value);
    }

    /// @notice Opens a job on the last `window()` values, oldest first; `msg.value` is the fee.
    /// @param deadline The job's deadline.
    /// @return jobId The job.
    function requestForecast(uint64 deadline) external payable returns (uint256 jobId) {
        jobId = jobs.openJobWithInputs{value: msg.value}(modelId, modelVersion, series(), deadline, true);
        _pending[jobId] = true;
        emit ForecastRequested(jobId);
    }

    /// @inheritdoc IInferenceCallback
    function onInferenceResult(uint256 jobId, uint256) external {
        if (msg.sender != address(jobs)) revert NotJobs(msg.sender);
        if (!_pending[jobId]) revert UnknownJob(jobId);
        delete _pending[jobId];
        (, int256[] memory values, uint8 frac) = jobs.valuesOf(jobId);
        int256 forecast = values[0];
        // Job ids increase with opening: a result for an older request than the one kept is history, not news.
        uint256 latest = lastForecastJob;
        if (jobId < latest) {
            emit StaleForecast(jobId, forecast, latest);
            return;
        }
        bool raised = forecast >= alertAt;
        lastForecast = forecast;
        lastForecastJob = jobId;
        alert = raised;
        emit Forecast(jobId, forecast, frac, raised);
    }

    /// @notice Takes back the fee of an unfulfilled job after its deadline, then sends this contract's market balance
    /// to the reporter.
    /// @param jobId The job.
    function reclaim(uint256 jobId) external {
        jobs.reclaim(jobId);
        delete _pending[jobId];
        uint256 amount = jobs.withdraw();
        (bool ok, ) = reporter.call{value: amount}("");
        if (!ok) revert NotReporter(reporter);
    }

    /// @notice The values the next forecast will use, oldest first.
    /// @return out The last `window()` recorded values.
    function series() public view returns (int256[] memory out) {
        uint256 n = _window;
        if (_recorded < n) revert SeriesTooShort(_recorded, n);
        out = new int256[](n);
        for (uint256 i; i < n; ++i) out[i] = _ring[(_recorded + i) % n]; // n = the model's input count
    }

    /// @notice How many values the model reads.
    /// @return The model's input count.
    function window() external view returns (uint256) {
        return _window;
    }

    /// @notice Receives the refund `reclaim` withdraws from the market.
    receive() external payable {
        if (msg.sender != address(jobs)) revert NotJobs(msg.sender);
    }
}
