// Style entry of cellar's JupyterLab extension (package.json "styleModule").
import './base.css';
